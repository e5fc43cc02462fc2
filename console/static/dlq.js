// Dead letters: the entries of eddy's dead-letter store (/eddy/dlq/), one
// entry's error, log tail and records, redrive and purge with confirmation.
import {rest} from './api.js';
import {h, mount, errorBox, confirmBox, fmtTime} from './dom.js';
import {recordView} from './streams.js';

const API = '/eddy/dlq';
const REFRESH_MS = 2000;

export async function render(main, args) {
  if (args[0] === 'mapping') return renderList(main, args[1] || '');
  if (args[0]) return renderEntry(main, args[0]);
  return renderList(main, '');
}

function redriveText(r) {
  if (!r) return '';
  return `${r.state}${r.count ? ` (${r.count} redrive(s), ${r.delivered} record(s) delivered)` : ''}${r.lastError ? `: ${r.lastError}` : ''}`;
}

async function renderList(main, mapping) {
  const q = mapping ? `?mapping=${encodeURIComponent(mapping)}` : '';
  const msg = h('div', {id: 'dlq-msg'});
  const box = h('div', {id: 'entries'});
  let stopped = false;
  let timer = null;
  async function refresh() {
    clearTimeout(timer);
    try {
      const out = await rest('GET', `${API}/entries${q}`);
      if (stopped) return;
      const es = out.Entries || [];
      mount(box, es.length === 0 ? h('p', {class: 'muted', id: 'no-entries'}, 'No dead letters.') :
        h('table', {class: 'grid'},
          h('thead', {}, h('tr', {}, ['ID', 'Created', 'Mapping', 'Condition', 'Shard', 'Records', 'Redrive', 'Last error'].map(c => h('th', {}, c)))),
          h('tbody', {}, es.map(e => h('tr', {'data-entry': e.id},
            h('td', {}, h('a', {href: `#/dlq/${e.id}`, class: 'entry-link'}, `#${e.id}`)),
            h('td', {}, fmtTime(e.created)),
            h('td', {class: 'mono'}, h('a', {href: `#/dlq/mapping/${encodeURIComponent(e.mapping)}`}, e.mapping)),
            h('td', {}, e.condition), h('td', {class: 'mono'}, e.shardId),
            h('td', {class: 'num'}, e.records), h('td', {class: 'redrive'}, e.redrive || ''),
            h('td', {class: 'bad'}, e.lastError || ''))))));
    } catch (err) {
      if (!stopped) mount(box, errorBox(err));
    }
    if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
  }
  const scope = mapping ? `of mapping ${mapping}` : 'of every mapping';
  mount(main,
    h('div', {class: 'toolbar'},
      h('h1', {}, h('a', {href: '#/dlq'}, 'Dead letters'), mapping ? ` / ${mapping}` : ''),
      h('button', {id: 'redrive-all', onclick: async () => {
        if (!await confirmBox(`Redrive every dead letter ${scope} through its function?`, 'Redrive all')) return;
        try {
          const out = await rest('POST', `${API}/redrive${q}`);
          mount(msg, h('div', {class: 'ok'}, `Redrove ${(out.Entries || []).length} entr(ies).`));
        } catch (err) { mount(msg, errorBox(err)); }
        refresh();
      }}, 'Redrive all'),
      h('button', {class: 'danger', id: 'purge', onclick: async () => {
        if (!await confirmBox(`Delete every dead letter ${scope}? Their records are lost.`, 'Purge')) return;
        try {
          const out = await rest('DELETE', `${API}/entries${q}`);
          mount(msg, h('div', {class: 'ok'}, `Deleted ${out.Deleted} entr(ies).`));
        } catch (err) { mount(msg, errorBox(err)); }
        refresh();
      }}, 'Purge')),
    msg, box);
  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}

async function renderEntry(main, id) {
  const e = await rest('GET', `${API}/entries/${encodeURIComponent(id)}`);
  e.records = e.records || []; // null once a redrive delivered them all
  e.record = e.record || {};
  const msg = h('div', {id: 'entry-msg'});
  const rc = e.record.requestContext || {};
  const bi = e.record.DDBStreamBatchInfo || {};
  const resp = e.record.responseContext || {};
  mount(main,
    h('div', {class: 'toolbar'},
      h('h1', {}, h('a', {href: '#/dlq'}, 'Dead letters'), ` / #${e.id}`),
      h('button', {id: 'redrive', disabled: e.records.length === 0, onclick: async () => {
        if (!await confirmBox(`Send the ${e.records.length} record(s) of #${e.id} through the function again?`, 'Redrive')) return;
        try {
          const out = await rest('POST', `${API}/entries/${e.id}/redrive`);
          await renderEntry(main, id);
          mount(document.getElementById('entry-msg'), h('div', {class: 'ok', id: 'redrive-done'},
            `Redrive ${redriveText(out.redrive)}.`));
        } catch (err) { mount(msg, errorBox(err)); }
      }}, 'Redrive'),
      h('button', {class: 'danger', id: 'delete-entry', onclick: async () => {
        if (!await confirmBox(`Delete dead letter #${e.id}? Its records are lost.`, 'Delete')) return;
        try {
          await rest('DELETE', `${API}/entries/${e.id}`);
          location.hash = '#/dlq';
        } catch (err) { mount(msg, errorBox(err)); }
      }}, 'Delete')),
    msg,
    h('dl', {class: 'facts card'},
      h('dt', {}, 'Mapping'), h('dd', {class: 'mono'}, e.mapping),
      h('dt', {}, 'Function'), h('dd', {class: 'mono'}, rc.functionArn),
      h('dt', {}, 'Condition'), h('dd', {}, `${rc.condition} after ${rc.approximateInvokeCount} invocation(s)`),
      h('dt', {}, 'Error'), h('dd', {class: 'bad', id: 'entry-error'}, e.lastError || resp.functionError || ''),
      h('dt', {}, 'Batch'), h('dd', {class: 'mono'}, `shard ${bi.shardId}, ${bi.startSequenceNumber} … ${bi.endSequenceNumber}, ${bi.batchSize} record(s)`),
      h('dt', {}, 'Created'), h('dd', {}, fmtTime(e.created)),
      h('dt', {}, 'Destination'), h('dd', {}, e.destination || 'none (kept here only)',
        e.delivery ? ` · delivered: ${JSON.stringify(e.delivery)}` : ''),
      h('dt', {}, 'Redrive'), h('dd', {id: 'entry-redrive'}, redriveText(e.redrive) || 'never')),
    e.logTail ? [h('h2', {}, 'Log tail'), h('pre', {class: 'log'}, e.logTail)] : null,
    h('h2', {}, `Records (${e.records.length})`),
    e.records.length === 0 ? h('p', {class: 'muted'}, 'None left: they were redriven.') : null,
    h('div', {id: 'entry-records'}, e.records.map(r => recordView(r.event, bi.shardId))));
}
