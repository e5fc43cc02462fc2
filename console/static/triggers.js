// Triggers: every event source mapping with its state, last processing
// result and last error, per-shard position and lag (eddy's /shards
// route), and enable/disable. The screen refreshes itself while shown.
import {rest, logs} from './api.js';
import {h, mount, errorBox, fmtTime} from './dom.js';

const ESM = '/2015-03-31/event-source-mappings';
const REFRESH_MS = 2000;
const LOG_WINDOW_MS = 15 * 60 * 1000; // log lines of the last quarter hour
const LOG_LINES = 12;

const functionOf = arn => { const m = /:function:([^:]+)/.exec(arn || ''); return m ? m[1] : arn; };
const tableOf = arn => { const m = /:table\/([^/]+)/.exec(arn || ''); return m ? m[1] : arn; };

function lagText(s) {
  if (s.Finished) return 'finished';
  const ms = s.LagMillis || 0;
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

// mappingBody is what a mapping's card shows below its title bar.
async function mappingBody(m) {
  let st = {Shards: []};
  let stErr = null;
  try { st = await rest('GET', `${ESM}/${encodeURIComponent(m.UUID)}/shards`); } catch (err) { stErr = err; }
  // The function's latest log lines (FilterLogEvents answers oldest first).
  let lines = [];
  try {
    const out = await logs('FilterLogEvents', {logGroupName: `/aws/lambda/${functionOf(m.FunctionArn)}`,
      startTime: Date.now() - LOG_WINDOW_MS});
    lines = (out.events || []).slice(-LOG_LINES).map(e => e.message.replace(/\n$/, ''));
  } catch (err) {
    if (err.type !== 'ResourceNotFoundException') lines = [`(log lines unavailable: ${err.message})`];
  }
  const problem = (m.LastProcessingResult || '').startsWith('PROBLEM');
  return [
    h('dl', {class: 'facts'},
      h('dt', {}, 'UUID'), h('dd', {class: 'mono'}, m.UUID),
      h('dt', {}, 'State'), h('dd', {class: 'state'}, `${m.State} (${m.StateTransitionReason || ''})`),
      h('dt', {}, 'Last result'), h('dd', {class: problem ? 'last-result bad' : 'last-result'}, m.LastProcessingResult || ''),
      h('dt', {}, 'Batch'), h('dd', {}, `${m.BatchSize} records, window ${m.MaximumBatchingWindowInSeconds || 0} s, ` +
        `retries ${m.MaximumRetryAttempts < 0 ? 'until expiry' : m.MaximumRetryAttempts}, bisect ${m.BisectBatchOnFunctionError ? 'on' : 'off'}`),
      h('dt', {}, 'On failure'), h('dd', {}, (m.DestinationConfig && m.DestinationConfig.OnFailure && m.DestinationConfig.OnFailure.Destination) || 'eddy\'s dead-letter store only',
        ' · ', h('a', {href: `#/dlq/mapping/${encodeURIComponent(m.UUID)}`}, 'dead letters')),
      h('dt', {}, 'Function'), h('dd', {}, functionOf(m.FunctionArn)),
      st.RecordsDelivered !== undefined ? [h('dt', {}, 'Records'), h('dd', {class: 'totals'},
        `${st.RecordsDelivered} delivered, ${st.RecordsDeadLettered} dead-lettered (since the mapping was created)`)] : null,
      h('dt', {}, 'Modified'), h('dd', {}, fmtTime(m.LastModified)),
      st.LastError ? [h('dt', {}, 'Last error'), h('dd', {class: 'last-error bad'}, st.LastError)] : null),
    stErr ? errorBox(stErr) :
      h('table', {class: 'grid shards'},
        h('thead', {}, h('tr', {}, ['Shard', 'Position', 'Pending', 'Lag'].map(c => h('th', {}, c)))),
        h('tbody', {}, (st.Shards || []).map(s => h('tr', {},
          h('td', {class: 'mono'}, s.ShardID), h('td', {class: 'mono'}, s.Position),
          h('td', {class: 'num'}, s.Finished ? '' : (s.PendingRecords >= 10000 ? '10000+' : s.PendingRecords)),
          h('td', {class: 'num'}, lagText(s)))))),
    h('h3', {}, `Recent log lines of ${functionOf(m.FunctionArn)}`),
    h('pre', {class: 'log'}, lines.length ? lines.join('\n') : '(none in the last 15 minutes)')];
}

const isEnabled = m => m.State === 'Enabled' || m.State === 'Enabling' || m.State === 'Creating';

// card makes a mapping's card once: refreshes update its body and its
// button in place, so a click never lands on an element just replaced.
function card(m, refresh) {
  const c = {m, body: h('div', {})};
  c.button = h('button', {class: 'toggle', onclick: async ev => {
    c.button.disabled = true;
    try {
      await rest('PUT', `${ESM}/${encodeURIComponent(c.m.UUID)}`, {Enabled: !isEnabled(c.m)});
    } catch (err) { ev.target.after(errorBox(err)); }
    await refresh();
  }});
  c.el = h('div', {class: 'card mapping', 'data-uuid': m.UUID},
    h('div', {class: 'toolbar'},
      h('h2', {}, functionOf(m.FunctionArn), ' ← ',
        h('a', {href: `#/streams/${encodeURIComponent(tableOf(m.EventSourceArn))}`}, tableOf(m.EventSourceArn))),
      c.button),
    c.body);
  return c;
}

async function update(c, m) {
  const body = await mappingBody(m);
  c.m = m;
  const on = isEnabled(m);
  c.button.textContent = on ? 'Disable' : 'Enable';
  c.button.className = on ? 'danger toggle' : 'toggle';
  c.button.disabled = false;
  mount(c.body, body);
}

export async function render(main) {
  const box = h('div', {id: 'mappings'});
  const stamp = h('span', {class: 'muted', id: 'refreshed'});
  mount(main, h('div', {class: 'toolbar'}, h('h1', {}, 'Triggers'), stamp), box);
  let stopped = false;
  let timer = null;
  const cards = new Map(); // UUID -> card
  const none = h('p', {class: 'muted'}, 'No event source mappings. Add one with eddy triggers add FUNCTION TABLE.');
  // refresh runs one pass at a time; a call during a pass (a click) runs
  // another right after it, so what it shows follows the click.
  let running = null;
  let again = false;
  function refresh() {
    if (running) { again = true; return running; }
    clearTimeout(timer);
    running = (async () => {
      do { again = false; await pass(); } while (again && !stopped);
    })().finally(() => {
      running = null;
      if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
    });
    return running;
  }
  async function pass() {
    try {
      const out = await rest('GET', `${ESM}/`);
      const ms = out.EventSourceMappings || [];
      const ids = new Set(ms.map(m => m.UUID));
      for (const [id, c] of cards) if (!ids.has(id)) { c.el.remove(); cards.delete(id); }
      for (const m of ms) if (!cards.has(m.UUID)) cards.set(m.UUID, card(m, refresh));
      await Promise.all(ms.map(m => update(cards.get(m.UUID), m)));
      if (stopped) return;
      if (ms.length === 0) mount(box, none);
      else {
        none.remove();
        for (const e of box.querySelectorAll(':scope > .error')) e.remove();
        for (const m of ms) if (cards.get(m.UUID).el.parentNode !== box) box.append(cards.get(m.UUID).el);
      }
      stamp.textContent = `refreshed ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (!stopped) mount(box, errorBox(err));
    }
  }
  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}
