// Streams: a table's shards drawn as their lineage tree, and a live tail
// of change records (GetRecords polled on every open shard) with the old
// and new images side by side, changed attributes highlighted.
import {ddb, streams} from './api.js';
import {h, mount, errorBox, fmtTime, avText} from './dom.js';

const KEEP = 200; // records kept on screen
const IDLE_MS = 1000; // wait after an empty GetRecords, as a poller of DynamoDB Streams does
const RESCAN_MS = 10000; // look for new shards this often

export async function render(main, args) {
  if (args[0]) return renderTail(main, args[0], args[1] || 'LATEST');
  const out = await streams('ListStreams', {});
  const list = out.Streams || [];
  mount(main, h('h1', {}, 'Streams'),
    list.length === 0 ? h('p', {class: 'muted'}, 'No table has a stream.') :
      h('table', {class: 'grid'},
        h('thead', {}, h('tr', {}, ['Table', 'Stream', 'Label'].map(c => h('th', {}, c)))),
        h('tbody', {}, list.map(s => h('tr', {},
          h('td', {}, h('a', {href: `#/streams/${encodeURIComponent(s.TableName)}`}, s.TableName)),
          h('td', {class: 'mono'}, s.StreamArn), h('td', {}, s.StreamLabel))))));
}

async function describeAll(arn) {
  const shards = [];
  let start;
  let desc;
  do {
    const out = await streams('DescribeStream', start ? {StreamArn: arn, ExclusiveStartShardId: start} : {StreamArn: arn});
    desc = out.StreamDescription;
    shards.push(...(desc.Shards || []));
    start = desc.LastEvaluatedShardId;
  } while (start);
  return {desc, shards};
}

// shardTree draws shards under their parents (a parent no longer in the
// stream, trimmed, makes its children roots).
export function shardTree(shards) {
  const ids = new Set(shards.map(s => s.ShardId));
  const kids = new Map();
  for (const s of shards) {
    const p = s.ParentShardId && ids.has(s.ParentShardId) ? s.ParentShardId : '';
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(s);
  }
  const node = s => {
    const r = s.SequenceNumberRange || {};
    const open = !r.EndingSequenceNumber;
    return h('li', {'data-shard': s.ShardId},
      h('span', {class: open ? 'badge open' : 'badge closed'}, open ? 'open' : 'closed'), ' ',
      h('span', {class: 'mono'}, s.ShardId),
      h('span', {class: 'muted'}, ` ${r.StartingSequenceNumber || ''} … ${r.EndingSequenceNumber || ''}`),
      kids.has(s.ShardId) && h('ul', {}, kids.get(s.ShardId).map(node)));
  };
  return h('ul', {class: 'tree', id: 'shard-tree'}, (kids.get('') || []).map(node));
}

async function renderTail(main, table, from) {
  const t = (await ddb('DescribeTable', {TableName: table})).Table;
  if (!t.LatestStreamArn || !(t.StreamSpecification && t.StreamSpecification.StreamEnabled)) {
    mount(main, h('h1', {}, `Stream of ${table}`), h('p', {class: 'muted'}, 'This table has no stream.'));
    return;
  }
  const arn = t.LatestStreamArn;
  const treeBox = h('div', {});
  const status = h('p', {id: 'tail-status', class: 'muted'}, 'Starting…');
  const records = h('div', {id: 'records'});
  const fromSel = h('select', {id: 'tail-from', onchange: () => {
    location.hash = `#/streams/${encodeURIComponent(table)}/${fromSel.value}`;
  }}, ['LATEST', 'TRIM_HORIZON'].map(v => h('option', {value: v, selected: v === from}, v === 'LATEST' ? 'new records' : 'from the oldest kept')));
  mount(main,
    h('h1', {}, h('a', {href: '#/streams'}, 'Streams'), ' / ', table),
    h('p', {class: 'muted mono'}, arn, ` (${t.StreamSpecification.StreamViewType})`),
    h('h2', {}, 'Shards'), treeBox,
    h('div', {class: 'toolbar'}, h('h2', {}, 'Live tail'), h('label', {}, 'Show ', fromSel)),
    status, records);

  let stopped = false;
  const timers = new Set();
  const later = (f, ms) => { const id = setTimeout(() => { timers.delete(id); f(); }, ms); timers.add(id); };
  const tailing = new Map(); // shard ID -> true while its poller runs
  const done = new Set(); // closed shards read to their end
  const lastSeq = new Map(); // shard ID -> sequence number of the last record shown
  let first = true; // the first scan starts at from; later ones at new shards' starts
  let seen = 0;

  function add(rec, shardId) {
    seen++;
    const c = document.getElementById('tail-count');
    if (c) c.textContent = String(seen);
    records.prepend(recordView(rec, shardId));
    while (records.childElementCount > KEEP) records.lastElementChild.remove();
  }

  async function poll(shardId, iterator) {
    if (stopped) return;
    try {
      const out = await streams('GetRecords', {ShardIterator: iterator, Limit: 100});
      if (stopped) return;
      for (const r of out.Records || []) {
        add(r, shardId);
        lastSeq.set(shardId, r.dynamodb.SequenceNumber);
      }
      if (!out.NextShardIterator) { // closed and read to its end
        tailing.delete(shardId);
        done.add(shardId);
        later(rescan, 0);
        return;
      }
      later(() => poll(shardId, out.NextShardIterator), (out.Records || []).length ? 0 : IDLE_MS);
    } catch (err) {
      if (stopped) return;
      tailing.delete(shardId);
      mount(status, errorBox(err));
      later(rescan, IDLE_MS);
    }
  }

  async function rescan() {
    if (stopped) return;
    try {
      const {shards} = await describeAll(arn);
      if (stopped) return;
      mount(treeBox, shardTree(shards));
      // Tail the open shards; from TRIM_HORIZON, closed ones are read too
      // (parents before children is not enforced here: records are shown
      // as they arrive).
      const want = shards.filter(s => from === 'TRIM_HORIZON' || !(s.SequenceNumberRange || {}).EndingSequenceNumber);
      const starts = [];
      for (const s of want) {
        if (tailing.has(s.ShardId) || done.has(s.ShardId)) continue;
        tailing.set(s.ShardId, true);
        // A shard that appeared after the first scan (a rollover, a split)
        // holds only new records: read it from its start, or the records
        // written before its poller began would be missed.
        // A poller that failed resumes after the last record it showed.
        const req = {StreamArn: arn, ShardId: s.ShardId, ShardIteratorType: first ? from : 'TRIM_HORIZON'};
        if (lastSeq.has(s.ShardId)) Object.assign(req, {ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: lastSeq.get(s.ShardId)});
        starts.push(streams('GetShardIterator', req)
          .then(o => ({id: s.ShardId, it: o.ShardIterator}), err => { tailing.delete(s.ShardId); throw err; }));
      }
      for (const {id, it} of await Promise.all(starts)) later(() => poll(id, it), 0);
      first = false;
      mount(status, h('span', {}, `Tailing ${tailing.size} shard(s) from ${from === 'LATEST' ? 'now' : 'the oldest record kept'}; `,
        h('span', {id: 'tail-count'}, String(seen)), ' record(s) received.'));
    } catch (err) {
      if (!stopped) mount(status, errorBox(err));
    }
    if (from === 'LATEST') later(rescan, RESCAN_MS);
  }

  await rescan();
  return () => { stopped = true; for (const id of timers) clearTimeout(id); };
}

// recordView shows one change record: what happened, to which key, and the
// old and new images side by side with the attributes that differ marked.
export function recordView(r, shardId) {
  const d = r.dynamodb || {};
  const oldI = d.OldImage || {};
  const newI = d.NewImage || {};
  const names = [...new Set([...Object.keys(d.Keys || {}), ...Object.keys(oldI), ...Object.keys(newI)])];
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const rows = names.map(n => {
    const changed = !same(oldI[n], newI[n]) && (d.OldImage || d.NewImage);
    return h('tr', {class: changed ? 'changed' : '', 'data-attr': n},
      h('th', {}, n),
      h('td', {}, n in oldI ? avText(oldI[n]) : ''),
      h('td', {}, n in newI ? avText(newI[n]) : ''));
  });
  return h('div', {class: `record ${r.eventName}`, 'data-seq': d.SequenceNumber},
    h('div', {class: 'record-head'},
      h('span', {class: `badge ${r.eventName}`}, r.eventName), ' ',
      h('span', {class: 'mono'}, Object.values(d.Keys || {}).map(avText).join(' / ')), ' ',
      h('span', {class: 'muted'}, `${fmtTime(d.ApproximateCreationDateTime)} · shard ${shardId} · seq ${d.SequenceNumber}`,
        r.userIdentity ? ` · ${r.userIdentity.principalId}` : '')),
    h('table', {class: 'images'},
      h('thead', {}, h('tr', {}, h('th', {}, 'attribute'), h('th', {}, 'old image'), h('th', {}, 'new image'))),
      h('tbody', {}, rows)));
}
