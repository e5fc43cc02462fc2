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

async function mappingView(m, refresh) {
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
  const enabled = m.State === 'Enabled' || m.State === 'Enabling' || m.State === 'Creating';
  const problem = (m.LastProcessingResult || '').startsWith('PROBLEM');
  return h('div', {class: 'card mapping', 'data-uuid': m.UUID},
    h('div', {class: 'toolbar'},
      h('h2', {}, functionOf(m.FunctionArn), ' ← ',
        h('a', {href: `#/streams/${encodeURIComponent(tableOf(m.EventSourceArn))}`}, tableOf(m.EventSourceArn))),
      h('button', {class: enabled ? 'danger toggle' : 'toggle', onclick: async ev => {
        ev.target.disabled = true;
        try {
          await rest('PUT', `${ESM}/${encodeURIComponent(m.UUID)}`, {Enabled: !enabled});
        } catch (err) { alertIn(ev.target, err); }
        refresh();
      }}, enabled ? 'Disable' : 'Enable')),
    h('dl', {class: 'facts'},
      h('dt', {}, 'UUID'), h('dd', {class: 'mono'}, m.UUID),
      h('dt', {}, 'State'), h('dd', {class: 'state'}, `${m.State} (${m.StateTransitionReason || ''})`),
      h('dt', {}, 'Last result'), h('dd', {class: problem ? 'last-result bad' : 'last-result'}, m.LastProcessingResult || ''),
      h('dt', {}, 'Batch'), h('dd', {}, `${m.BatchSize} records, window ${m.MaximumBatchingWindowInSeconds || 0} s, ` +
        `retries ${m.MaximumRetryAttempts < 0 ? 'until expiry' : m.MaximumRetryAttempts}, bisect ${m.BisectBatchOnFunctionError ? 'on' : 'off'}`),
      h('dt', {}, 'On failure'), h('dd', {}, (m.DestinationConfig && m.DestinationConfig.OnFailure && m.DestinationConfig.OnFailure.Destination) || 'eddy\'s dead-letter store only',
        ' · ', h('a', {href: `#/dlq/mapping/${encodeURIComponent(m.UUID)}`}, 'dead letters')),
      h('dt', {}, 'Function'), h('dd', {}, functionOf(m.FunctionArn)),
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
    h('pre', {class: 'log'}, lines.length ? lines.join('\n') : '(none in the last 15 minutes)'));
}

function alertIn(el, err) { el.after(errorBox(err)); }

export async function render(main) {
  const box = h('div', {id: 'mappings'});
  const stamp = h('span', {class: 'muted', id: 'refreshed'});
  mount(main, h('div', {class: 'toolbar'}, h('h1', {}, 'Triggers'), stamp), box);
  let stopped = false;
  let timer = null;
  async function refresh() {
    clearTimeout(timer);
    try {
      const out = await rest('GET', `${ESM}/`);
      const ms = out.EventSourceMappings || [];
      const views = await Promise.all(ms.map(m => mappingView(m, refresh)));
      if (stopped) return;
      mount(box, ms.length ? views : h('p', {class: 'muted'}, 'No event source mappings. Add one with eddy triggers add FUNCTION TABLE.'));
      stamp.textContent = `refreshed ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (!stopped) mount(box, errorBox(err));
    }
    if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
  }
  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}
