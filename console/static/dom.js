// A few DOM helpers: no framework.

// h builds an element: h('div', {class: 'x', onclick: f}, child, ...).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// mount replaces the children of el.
export function mount(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat(Infinity)) if (c) el.append(c);
}

// The exceptions AWS answers a request that failed authentication with.
const AUTH_ERRORS = new Set(['MissingAuthenticationTokenException', 'IncompleteSignatureException',
  'UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException']);

// errorBox shows an error where a screen's content would be; an
// authentication failure offers the credentials form.
export function errorBox(err) {
  const box = h('div', {class: 'error', role: 'alert'}, String(err && err.message || err));
  if (err && AUTH_ERRORS.has(err.type)) {
    box.append(' ', h('button', {class: 'enter-creds', onclick: () => document.getElementById('creds').click()},
      'Enter credentials'));
  }
  return box;
}

// confirmBox asks in the page (not window.confirm, which blocks the page
// and scripts driving it): resolves true when the user clicks confirm.
export function confirmBox(message, confirmLabel) {
  return new Promise(resolve => {
    const done = v => { overlay.remove(); resolve(v); };
    const overlay = h('div', {class: 'overlay'},
      h('div', {class: 'dialog', role: 'dialog'},
        h('p', {}, message),
        h('div', {class: 'buttons'},
          h('button', {class: 'danger', id: 'confirm-yes', onclick: () => done(true)}, confirmLabel || 'Confirm'),
          h('button', {id: 'confirm-no', onclick: () => done(false)}, 'Cancel'))));
    document.body.append(overlay);
  });
}

// fmtBytes renders a size in B, KB, MB, GB.
export function fmtBytes(n) {
  n = Number(n || 0);
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${u[i]}`;
}

// fmtTime renders epoch seconds or an ISO string as local time.
export function fmtTime(t) {
  if (t === undefined || t === null || t === '') return '';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}

// avText renders one DynamoDB JSON attribute value compactly; numbers stay
// the strings they are on the wire, so 38 digits survive.
export function avText(av) {
  if (!av || typeof av !== 'object') return String(av);
  const [t, v] = Object.entries(av)[0] || [];
  switch (t) {
    case 'S': case 'N': return v;
    case 'B': return `b64:${v}`;
    case 'BOOL': return String(v);
    case 'NULL': return 'null';
    case 'SS': case 'NS': return `{${v.join(', ')}}`;
    case 'BS': return `{${v.map(x => 'b64:' + x).join(', ')}}`;
    case 'L': return `[${v.map(avText).join(', ')}]`;
    case 'M': return `{${Object.entries(v).map(([k, x]) => `${k}: ${avText(x)}`).join(', ')}}`;
    default: return JSON.stringify(av);
  }
}

// avType is the type letter of an attribute value (S, N, M...).
export const avType = av => (av && typeof av === 'object' && Object.keys(av)[0]) || '';
