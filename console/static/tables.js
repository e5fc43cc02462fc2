// Tables: the list, create and delete, items page by page (Scan or a
// Query built from the key schema), and an item editor in plain JSON with
// type hints beside DynamoDB JSON (plainjson.js).
import {ddb, listTables} from './api.js';
import {h, mount, errorBox, confirmBox, fmtBytes, avText} from './dom.js';
import {HINTS, itemToPlain, plainToItem, ddbToPlain} from './plainjson.js';

const PAGE = 25;

export async function render(main, args) {
  if (args[0]) return renderTable(main, args[0]);
  return renderList(main);
}

// ---- the list ----

async function renderList(main) {
  const names = await listTables();
  const descs = await Promise.all(names.map(n =>
    ddb('DescribeTable', {TableName: n}).then(o => o.Table, err => ({TableName: n, error: err}))));
  const msg = h('div', {id: 'tables-msg'});
  const form = createForm(main, msg);
  form.hidden = true;
  const rows = descs.map(t => t.error
    ? h('tr', {'data-table': t.TableName}, h('td', {}, t.TableName), h('td', {colspan: 6}, errorBox(t.error)))
    : h('tr', {'data-table': t.TableName},
      h('td', {}, h('a', {href: `#/tables/${encodeURIComponent(t.TableName)}`}, t.TableName)),
      h('td', {}, t.TableStatus),
      h('td', {class: 'num'}, t.ItemCount ?? 0),
      h('td', {class: 'num'}, fmtBytes(t.TableSizeBytes)),
      h('td', {}, (t.BillingModeSummary && t.BillingModeSummary.BillingMode) || 'PROVISIONED'),
      h('td', {}, streamCell(t)),
      h('td', {}, h('button', {class: 'danger delete-table', onclick: async () => {
        if (!await confirmBox(`Delete table ${t.TableName} and all its items? This cannot be undone.`, 'Delete table')) return;
        try {
          await ddb('DeleteTable', {TableName: t.TableName});
          render(main, []);
        } catch (err) { mount(msg, errorBox(err)); }
      }}, 'Delete'))));
  mount(main,
    h('div', {class: 'toolbar'},
      h('h1', {}, 'Tables'),
      h('button', {id: 'create-table', onclick: () => { form.hidden = !form.hidden; }}, 'Create table')),
    msg, form,
    names.length === 0 ? h('p', {class: 'muted'}, 'No tables yet.') :
      h('table', {class: 'grid', id: 'tables'},
        h('thead', {}, h('tr', {}, ['Name', 'Status', 'Items', 'Size', 'Billing', 'Stream', ''].map(c => h('th', {}, c)))),
        h('tbody', {}, rows)));
}

function streamCell(t) {
  const s = t.StreamSpecification;
  if (!s || !s.StreamEnabled) return 'off';
  return h('a', {href: `#/streams/${encodeURIComponent(t.TableName)}`}, s.StreamViewType);
}

function typeSelect(id) {
  return h('select', {id}, ['S', 'N', 'B'].map(t => h('option', {value: t}, t)));
}

function createForm(main, msg) {
  const f = h('form', {class: 'card', id: 'create-form'},
    h('h2', {}, 'Create table'),
    h('label', {}, 'Name ', h('input', {id: 'ct-name', required: true, pattern: '[a-zA-Z0-9_.\\-]{3,255}'})),
    h('label', {}, 'Partition key ', h('input', {id: 'ct-pk', required: true}), typeSelect('ct-pktype')),
    h('label', {}, 'Sort key (optional) ', h('input', {id: 'ct-sk'}), typeSelect('ct-sktype')),
    h('label', {}, h('input', {type: 'checkbox', id: 'ct-stream', checked: true}), ' Stream, view type ',
      h('select', {id: 'ct-view'}, ['NEW_AND_OLD_IMAGES', 'NEW_IMAGE', 'OLD_IMAGE', 'KEYS_ONLY'].map(v => h('option', {value: v}, v)))),
    h('p', {class: 'muted'}, 'Billing: on demand (PAY_PER_REQUEST).'),
    h('button', {type: 'submit', id: 'ct-submit'}, 'Create'));
  f.addEventListener('submit', async ev => {
    ev.preventDefault();
    const v = id => f.querySelector('#' + id).value.trim();
    const attrs = [{AttributeName: v('ct-pk'), AttributeType: v('ct-pktype')}];
    const keys = [{AttributeName: v('ct-pk'), KeyType: 'HASH'}];
    if (v('ct-sk')) {
      attrs.push({AttributeName: v('ct-sk'), AttributeType: v('ct-sktype')});
      keys.push({AttributeName: v('ct-sk'), KeyType: 'RANGE'});
    }
    const req = {TableName: v('ct-name'), AttributeDefinitions: attrs, KeySchema: keys, BillingMode: 'PAY_PER_REQUEST'};
    if (f.querySelector('#ct-stream').checked) req.StreamSpecification = {StreamEnabled: true, StreamViewType: v('ct-view')};
    try {
      await ddb('CreateTable', req);
      await render(main, []);
    } catch (err) { mount(msg, errorBox(err)); }
  });
  return f;
}

// ---- one table ----

// keyOf returns the item's key attributes in key-schema order.
function keyOf(item, schema) {
  const k = {};
  for (const e of schema) k[e.AttributeName] = item[e.AttributeName];
  return k;
}

async function renderTable(main, name) {
  const t = (await ddb('DescribeTable', {TableName: name})).Table;
  const types = Object.fromEntries((t.AttributeDefinitions || []).map(a => [a.AttributeName, a.AttributeType]));
  const indexes = [{name: '', label: 'table', schema: t.KeySchema}]
    .concat((t.GlobalSecondaryIndexes || []).map(i => ({name: i.IndexName, label: `GSI ${i.IndexName}`, schema: i.KeySchema})))
    .concat((t.LocalSecondaryIndexes || []).map(i => ({name: i.IndexName, label: `LSI ${i.IndexName}`, schema: i.KeySchema})));
  const msg = h('div', {id: 'items-msg'});
  const editor = h('div', {id: 'editor'});
  const results = h('div', {id: 'items'});
  // state of the current listing: the request without its start key, and
  // the start keys of the pages before this one (for Previous).
  let base = null;
  let starts = [];
  let current;

  async function load(start) {
    current = start;
    const req = {...base, Limit: PAGE};
    if (start) req.ExclusiveStartKey = start;
    const op = req.KeyConditionExpression ? 'Query' : 'Scan';
    try {
      const out = await ddb(op, req);
      showPage(out, start);
    } catch (err) { mount(results, errorBox(err)); }
  }

  function showPage(out, start) {
    const items = out.Items || [];
    const keyNames = t.KeySchema.map(e => e.AttributeName);
    const cols = [...keyNames];
    for (const it of items) for (const k of Object.keys(it)) if (!cols.includes(k)) cols.push(k);
    const pk = keyNames[0];
    mount(results,
      h('table', {class: 'grid'},
        h('thead', {}, h('tr', {}, cols.map(c => h('th', {}, c)), h('th', {}, ''))),
        h('tbody', {}, items.map(it => h('tr', {'data-pk': avText(it[pk])},
          cols.map(c => h('td', {title: it[c] ? Object.keys(it[c])[0] : ''}, it[c] ? avText(it[c]) : '')),
          h('td', {class: 'actions'},
            h('button', {class: 'edit', onclick: () => edit(keyOf(it, t.KeySchema))}, 'Edit'),
            h('button', {class: 'danger delete-item', onclick: async () => {
              if (!await confirmBox(`Delete the item ${avText(it[pk])}?`, 'Delete item')) return;
              try {
                await ddb('DeleteItem', {TableName: name, Key: keyOf(it, t.KeySchema)});
                load(start);
              } catch (err) { mount(msg, errorBox(err)); }
            }}, 'Delete')))))),
      h('div', {class: 'pager'},
        h('span', {class: 'muted', id: 'page-info'}, `${items.length} item(s) on this page, ${out.ScannedCount ?? items.length} read`),
        h('button', {id: 'prev-page', disabled: starts.length === 0, onclick: () => load(starts.pop() || undefined)}, 'Previous'),
        h('button', {id: 'next-page', disabled: !out.LastEvaluatedKey, onclick: () => {
          starts.push(start || null);
          load(out.LastEvaluatedKey);
        }}, 'Next')));
  }

  async function edit(key) {
    let item = {};
    let title = 'New item';
    if (key) {
      try {
        const out = await ddb('GetItem', {TableName: name, Key: key, ConsistentRead: true});
        if (!out.Item) { mount(msg, errorBox('The item no longer exists.')); return; }
        item = out.Item;
        title = 'Edit item';
      } catch (err) { mount(msg, errorBox(err)); return; }
    } else {
      for (const e of t.KeySchema) item[e.AttributeName] = {[types[e.AttributeName] || 'S']: ''};
    }
    // Two editors side by side: plain JSON with type hints and DynamoDB
    // JSON. Typing in one rewrites the other when it parses; Save writes
    // the one last changed.
    const ta = h('textarea', {id: 'item-json', rows: 16, spellcheck: 'false'});
    const plain = h('textarea', {id: 'item-plain', rows: 16, spellcheck: 'false'});
    const plainStatus = h('div', {id: 'plain-status', class: 'muted'});
    const ddbStatus = h('div', {id: 'ddb-status', class: 'muted'});
    const status = h('div', {id: 'item-status'});
    // DynamoDB JSON one attribute to a line.
    const ddbText = it => {
      const ks = Object.keys(it);
      return ks.length ? `{\n${ks.map(k => `  ${JSON.stringify(k)}: ${JSON.stringify(it[k])}`).join(',\n')}\n}` : '{}';
    };
    let shownDdb = ddbText(item);
    let shownPlain = itemToPlain(item);
    ta.value = shownDdb;
    plain.value = shownPlain;
    let last = null; // 'plain' or 'ddb': the editor the user typed in last
    plain.addEventListener('input', () => {
      last = 'plain';
      mount(status);
      try {
        shownDdb = ta.value = ddbText(plainToItem(plain.value));
        mount(plainStatus);
      } catch (err) { mount(plainStatus, h('span', {class: 'bad'}, err.message)); }
    });
    ta.addEventListener('input', () => {
      last = 'ddb';
      mount(status);
      try {
        shownPlain = plain.value = ddbToPlain(ta.value);
        mount(ddbStatus);
      } catch (err) { mount(ddbStatus, h('span', {class: 'bad'}, err.message)); }
    });
    // source is the editor whose text is the user's: the one typed in
    // last, or one whose text differs from what the console put there
    // (a value set without an input event).
    const source = () => last || (plain.value !== shownPlain && ta.value === shownDdb ? 'plain' : 'ddb');
    mount(editor, h('div', {class: 'card'},
      h('h2', {}, title),
      h('p', {class: 'muted'}, 'Saving replaces the whole item (PutItem). Edit either side: the other follows.'),
      h('div', {class: 'editors'},
        h('div', {},
          h('h3', {}, 'Plain JSON with type hints'),
          plain, plainStatus,
          h('table', {class: 'hints', id: 'type-hints'},
            h('tbody', {}, HINTS.map(([w, t]) => h('tr', {}, h('td', {class: 'mono'}, w), h('td', {}, t)))))),
        h('div', {},
          h('h3', {}, 'DynamoDB JSON'),
          ta, ddbStatus,
          h('p', {class: 'muted'}, 'Numbers are strings ({"N": "3.14"}), so all 38 digits are kept.'))),
      status,
      h('div', {class: 'buttons'},
        h('button', {id: 'item-save', onclick: async () => {
          let it;
          try {
            it = source() === 'plain' ? plainToItem(plain.value) : JSON.parse(ta.value);
          } catch (err) { mount(status, errorBox(`Not valid ${source() === 'plain' ? 'plain' : 'DynamoDB'} JSON: ${err.message}`)); return; }
          try {
            const req = {TableName: name, Item: it};
            // Editing an item whose key was changed in the text writes a new
            // item; the old one stays, as PutItem does.
            await ddb('PutItem', req);
            mount(editor);
            mount(msg, h('div', {class: 'ok', id: 'item-saved'}, `Saved ${avText(it[t.KeySchema[0].AttributeName])}.`));
            load(current);
          } catch (err) { mount(status, errorBox(err)); }
        }}, 'Save'),
        h('button', {onclick: () => mount(editor)}, 'Cancel'))));
    plain.focus();
  }

  // The query form: the index's partition key (equality) and an optional
  // sort key condition, with the types the attribute definitions give.
  const valuesBox = h('input', {id: 'q-values', placeholder: '{":v": {"S": "x"}}', size: 24});
  const idxSel = h('select', {id: 'q-index'}, indexes.map(i => h('option', {value: i.name}, i.label)));
  const qform = h('form', {class: 'card query', id: 'query-form'});
  function drawQuery() {
    const ix = indexes.find(i => i.name === idxSel.value) || indexes[0];
    const pk = ix.schema.find(e => e.KeyType === 'HASH').AttributeName;
    const sk = (ix.schema.find(e => e.KeyType === 'RANGE') || {}).AttributeName;
    mount(qform,
      h('label', {}, 'Index ', idxSel),
      h('label', {}, `${pk} (${types[pk]}) = `, h('input', {id: 'q-pk', required: true})),
      sk && h('label', {}, `${sk} (${types[sk]}) `,
        h('select', {id: 'q-op'}, ['', '=', '<', '<=', '>', '>=', 'begins_with', 'between'].map(o => h('option', {value: o}, o || 'any'))),
        h('input', {id: 'q-sk1'}), h('input', {id: 'q-sk2', placeholder: 'and (between)'})),
      h('label', {}, 'Filter ', h('input', {id: 'q-filter', placeholder: 'optional, e.g. #v = :v', size: 24})),
      h('label', {}, 'values ', valuesBox),
      h('button', {type: 'submit', id: 'q-run'}, 'Query'),
      h('button', {type: 'button', id: 'scan', onclick: () => { base = scanBase(); starts = []; load(); }}, 'Scan'));
    qform.onsubmit = ev => {
      ev.preventDefault();
      const val = (attr, s) => ({[types[attr] || 'S']: s});
      const names = {'#_pk': pk};
      const values = {':_pk': val(pk, qform.querySelector('#q-pk').value)};
      let cond = '#_pk = :_pk';
      const op = sk && qform.querySelector('#q-op').value;
      if (op) {
        names['#_sk'] = sk;
        values[':_sk1'] = val(sk, qform.querySelector('#q-sk1').value);
        if (op === 'begins_with') cond += ' AND begins_with(#_sk, :_sk1)';
        else if (op === 'between') {
          values[':_sk2'] = val(sk, qform.querySelector('#q-sk2').value);
          cond += ' AND #_sk BETWEEN :_sk1 AND :_sk2';
        } else cond += ` AND #_sk ${op} :_sk1`;
      }
      base = {TableName: name, KeyConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values};
      if (ix.name) base.IndexName = ix.name;
      try { addFilter(base); } catch (err) { mount(msg, errorBox(`Filter values: ${err.message}`)); return; }
      starts = [];
      load();
    };
  }
  idxSel.onchange = drawQuery;
  drawQuery();

  // addFilter adds the filter box's expression; its #names are the
  // attribute names themselves and :values are typed as v (S) or given
  // as DynamoDB JSON in the values box.
  function addFilter(req) {
    const f = qform.querySelector('#q-filter').value.trim();
    if (!f) return;
    req.FilterExpression = f;
    for (const m of f.matchAll(/#([A-Za-z0-9_]+)/g)) {
      req.ExpressionAttributeNames = {...(req.ExpressionAttributeNames || {}), ['#' + m[1]]: m[1]};
    }
    if (valuesBox.value.trim()) {
      req.ExpressionAttributeValues = {...(req.ExpressionAttributeValues || {}), ...JSON.parse(valuesBox.value)};
    }
  }
  function scanBase() {
    const req = {TableName: name};
    if (idxSel.value) req.IndexName = idxSel.value;
    try { addFilter(req); } catch (err) { mount(msg, errorBox(err)); }
    return req;
  }

  const keys = t.KeySchema.map(e => `${e.AttributeName} (${types[e.AttributeName]}, ${e.KeyType === 'HASH' ? 'partition' : 'sort'})`).join(', ');
  mount(main,
    h('div', {class: 'toolbar'},
      h('h1', {}, h('a', {href: '#/tables'}, 'Tables'), ' / ', name),
      h('button', {id: 'new-item', onclick: () => edit(null)}, 'New item')),
    h('p', {class: 'muted'}, `Key: ${keys}. ${t.ItemCount ?? 0} items, ${fmtBytes(t.TableSizeBytes)}. `,
      t.LatestStreamArn && t.StreamSpecification && t.StreamSpecification.StreamEnabled
        ? h('a', {href: `#/streams/${encodeURIComponent(name)}`}, 'Stream tail') : 'No stream.'),
    qform,
    msg, editor, results);
  base = scanBase();
  await load();
}
