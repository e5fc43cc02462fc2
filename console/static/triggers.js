// Triggers: every event source mapping with its state, last processing
// result and last error, per-shard position and lag (eddy's /shards
// route), the last hour's charts and figures (/eddy/mappings/UUID/series),
// the function's log lines, and enable/disable; forms to deploy a function
// (CreateFunction / UpdateFunctionCode) and add a trigger
// (CreateEventSourceMapping). The screen refreshes itself while shown.
import {rest, logs, streams} from './api.js';
import {h, mount, errorBox, fmtTime} from './dom.js';
import {lineChart} from './charts.js';

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
  let series = null;
  let seriesErr = null;
  try { series = await rest('GET', `/eddy/mappings/${encodeURIComponent(m.UUID)}/series`); } catch (err) { seriesErr = err; }
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
      st.LastError ? [h('dt', {}, 'Last error'), h('dd', {class: 'last-error bad'}, st.LastError)] : null,
      series ? [h('dt', {}, 'Last hour'), h('dd', {class: 'hour'}, hourText(series.Hour))] : null),
    seriesErr ? errorBox(seriesErr) : series && charts(series),
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

const ms = v => v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)} s` : `${Math.round(v * 10) / 10} ms`;

function hourText(hr) {
  const d = hr.DurationMillis;
  return `${hr.Invocations} invocation(s), ${hr.Errors} error(s), ${hr.RecordsDelivered} record(s) delivered, ` +
    `${hr.RecordsDeadLettered} dead-lettered; duration ` + (d ? `p50 ${ms(d.P50)}, p90 ${ms(d.P90)}, p99 ${ms(d.P99)}` : 'no invocations');
}

// charts draws the mapping's last hour: records/s, lag per shard,
// invocations and errors, duration percentiles.
function charts(s) {
  const col = f => s.Samples.map(f);
  const shards = [...new Set(s.Samples.flatMap(x => Object.keys(x.LagMillis || {})))].sort();
  const lag = shards.length ? shards.map(id => ({name: id, values: col(x => (x.LagMillis || {})[id] || 0)}))
    : [{name: 'lag', values: col(() => 0)}];
  const pct = k => col(x => x.DurationMillis ? x.DurationMillis[k] : 0);
  return h('div', {class: 'charts'},
    lineChart('records', 'Records/s delivered', [{name: 'Records/s delivered', values: col(x => x.RecordsDelivered / s.PeriodSeconds)}],
      v => v >= 10 ? v.toFixed(0) : v.toFixed(2)),
    lineChart('lag', 'Lag per shard (iterator age)', lag, ms),
    lineChart('invocations', 'Invocations and errors per minute', [
      {name: 'invocations', values: col(x => x.Invocations)}, {name: 'errors', values: col(x => x.Errors)}]),
    lineChart('duration', 'Duration percentiles', [{name: 'p50', values: pct('P50')}, {name: 'p90', values: pct('P90')},
      {name: 'p99', values: pct('P99')}], ms));
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

// base64 of bytes, in chunks (String.fromCharCode takes so many arguments).
function base64(buf) {
  const b = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

// envOf reads KEY=VALUE lines.
function envOf(text) {
  const vars = {};
  for (const line of text.split('\n').map(l => l.trim()).filter(Boolean)) {
    const i = line.indexOf('=');
    if (i <= 0) throw new Error(`environment: "${line}" is not KEY=VALUE`);
    vars[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  return vars;
}

const FN = '/2015-03-31/functions';

// deployForm uploads a .wasm or a zip holding one through the Lambda API:
// CreateFunction, or for an existing function UpdateFunctionCode and
// UpdateFunctionConfiguration (which replaces the whole environment, as in
// Lambda).
function deployForm(done) {
  const msg = h('div', {id: 'fn-msg'});
  const f = h('form', {class: 'card', id: 'deploy-form', hidden: true},
    h('h2', {}, 'Deploy a function'),
    h('p', {class: 'muted'}, 'A WebAssembly module (.wasm) or a zip holding exactly one; see the README for building one. ' +
      'Runtime provided.al2023; the role is stored, not enforced.'),
    h('label', {}, 'Name ', h('input', {id: 'fn-name', required: true, pattern: '[a-zA-Z0-9_\\-]{1,64}'})),
    h('label', {}, 'Code ', h('input', {id: 'fn-file', type: 'file', accept: '.wasm,.zip', required: true})),
    h('label', {}, 'Handler ', h('input', {id: 'fn-handler', value: 'handle'})),
    h('label', {}, 'Timeout (s) ', h('input', {id: 'fn-timeout', type: 'number', min: 1, max: 900, value: 30})),
    h('label', {}, 'Environment (KEY=VALUE per line; replaces the whole environment)', h('br'),
      h('textarea', {id: 'fn-env', rows: 3, spellcheck: 'false'})),
    msg,
    h('button', {type: 'submit', id: 'fn-submit'}, 'Deploy'));
  f.addEventListener('submit', async ev => {
    ev.preventDefault();
    const v = id => f.querySelector('#' + id).value.trim();
    const file = f.querySelector('#fn-file').files[0];
    const btn = f.querySelector('#fn-submit');
    btn.disabled = true;
    try {
      const vars = envOf(f.querySelector('#fn-env').value);
      const zip = base64(await file.arrayBuffer());
      const cfg = {Handler: v('fn-handler') || 'handle', Timeout: Number(v('fn-timeout')) || 3, Environment: {Variables: vars}};
      const name = v('fn-name');
      let out;
      try {
        out = await rest('POST', `${FN}`, {FunctionName: name, Runtime: 'provided.al2023',
          Role: 'arn:aws:iam::000000000000:role/eddy', Code: {ZipFile: zip}, ...cfg});
      } catch (err) {
        if (err.type !== 'ResourceConflictException') throw err;
        await rest('PUT', `${FN}/${encodeURIComponent(name)}/code`, {ZipFile: zip});
        out = await rest('PUT', `${FN}/${encodeURIComponent(name)}/configuration`, cfg);
      }
      mount(msg, h('div', {class: 'ok', id: 'fn-done'}, `Deployed ${out.FunctionName} (${out.CodeSize} bytes, ${out.CodeSha256}).`));
      done();
    } catch (err) {
      mount(msg, errorBox(err));
    } finally { btn.disabled = false; }
  });
  return f;
}

// triggerForm creates an event source mapping from a function and a
// table's stream, with the delivery settings a user should choose.
function triggerForm(done) {
  const msg = h('div', {id: 'tr-msg'});
  const fnSel = h('select', {id: 'tr-fn', required: true});
  const streamSel = h('select', {id: 'tr-stream', required: true});
  const f = h('form', {class: 'card', id: 'trigger-form', hidden: true},
    h('h2', {}, 'Add a trigger'),
    h('label', {}, 'Function ', fnSel),
    h('label', {}, 'Table stream ', streamSel),
    h('label', {}, 'Start from ', h('select', {id: 'tr-start'}, ['LATEST', 'TRIM_HORIZON'].map(v => h('option', {value: v}, v)))),
    h('label', {}, 'Batch size ', h('input', {id: 'tr-batch', type: 'number', min: 1, max: 10000, value: 100})),
    h('label', {}, 'Retries ', h('input', {id: 'tr-retries', type: 'number', min: -1, max: 10000, value: 2}),
      h('span', {class: 'muted'}, ' (-1: until the records expire, Lambda\'s default)')),
    h('label', {}, h('input', {id: 'tr-bisect', type: 'checkbox', checked: true}), ' Bisect a failing batch'),
    h('label', {}, 'On failure, also send to (optional ARN) ', h('input', {id: 'tr-dest', size: 48})),
    msg,
    h('button', {type: 'submit', id: 'tr-submit'}, 'Add trigger'));
  f.load = async () => {
    try {
      const [fns, ss] = await Promise.all([rest('GET', `${FN}/`), streams('ListStreams', {})]);
      mount(fnSel, (fns.Functions || []).map(x => h('option', {value: x.FunctionName}, x.FunctionName)));
      mount(streamSel, (ss.Streams || []).map(x => h('option', {value: x.StreamArn}, `${x.TableName} (${x.StreamLabel})`)));
    } catch (err) { mount(msg, errorBox(err)); }
  };
  f.addEventListener('submit', async ev => {
    ev.preventDefault();
    const v = id => f.querySelector('#' + id).value.trim();
    const req = {FunctionName: v('tr-fn'), EventSourceArn: v('tr-stream'), StartingPosition: v('tr-start'),
      BatchSize: Number(v('tr-batch')), MaximumRetryAttempts: Number(v('tr-retries')),
      BisectBatchOnFunctionError: f.querySelector('#tr-bisect').checked};
    if (v('tr-dest')) req.DestinationConfig = {OnFailure: {Destination: v('tr-dest')}};
    try {
      const out = await rest('POST', `${ESM}/`, req);
      mount(msg, h('div', {class: 'ok', id: 'tr-done', 'data-uuid': out.UUID}, `Added trigger ${out.UUID}.`));
      done();
    } catch (err) { mount(msg, errorBox(err)); }
  });
  return f;
}

export async function render(main) {
  const box = h('div', {id: 'mappings'});
  const stamp = h('span', {class: 'muted', id: 'refreshed'});
  const deploy = deployForm(() => { trig.load(); });
  const trig = triggerForm(() => refresh());
  mount(main, h('div', {class: 'toolbar'}, h('h1', {}, 'Triggers'), stamp,
    h('button', {id: 'deploy-fn', onclick: () => { deploy.hidden = !deploy.hidden; }}, 'Deploy function'),
    h('button', {id: 'add-trigger', onclick: () => { trig.hidden = !trig.hidden; if (!trig.hidden) trig.load(); }}, 'Add trigger')),
    h('div', {id: 'forms'}, deploy, trig), box);
  let stopped = false;
  let timer = null;
  const cards = new Map(); // UUID -> card
  const none = h('p', {class: 'muted'}, 'No event source mappings. Add one with the form above or eddy triggers add FUNCTION TABLE.');
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
