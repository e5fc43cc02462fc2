// The console's router: #/screen/arg... in the URL's fragment, one module
// per screen. A screen's render(main, args) returns an optional stop
// function, called when the user leaves (the stream tail's polling).
import {h, mount, errorBox} from './dom.js';
import * as tables from './tables.js';
import * as streamsScreen from './streams.js';
import * as triggers from './triggers.js';
import * as dlq from './dlq.js';
import {credentials, saveCredentials} from './sigv4.js';

const screens = {tables, streams: streamsScreen, triggers, dlq};
let stop = null;
let generation = 0;

async function route() {
  if (stop) { stop(); stop = null; }
  const gen = ++generation;
  const parts = (location.hash.replace(/^#\/?/, '') || 'tables').split('/').map(decodeURIComponent);
  const name = screens[parts[0]] ? parts[0] : 'tables';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.nav === name);
  // Each visit renders into its own element: a slow render of a screen
  // the user already left fills a detached element, not the new screen.
  const main = h('div', {class: 'view'}, h('p', {class: 'muted'}, 'Loading…'));
  mount(document.getElementById('main'), main);
  try {
    const s = await screens[name].render(main, parts.slice(1));
    if (typeof s === 'function') {
      if (gen === generation) stop = s; else s(); // the user left meanwhile
    }
  } catch (err) {
    if (gen === generation) mount(main, errorBox(err));
  }
}

// The credentials form: entered once per tab (sessionStorage), then every
// request is signed with SigV4; cleared, requests go unsigned.
function drawCreds() {
  const c = credentials();
  const btn = document.getElementById('creds');
  btn.textContent = c ? `Signed as ${c.accessKeyId} (${c.region})` : 'Credentials';
}

function credsForm() {
  const c = credentials() || {region: 'us-east-1'};
  const field = (id, label, value, type = 'text') => h('label', {}, label, ' ', h('input', {id, type, value: value || '', autocomplete: 'off'}));
  const overlay = h('div', {class: 'overlay'});
  const close = () => overlay.remove();
  const form = h('form', {class: 'dialog', id: 'creds-form'},
    h('h2', {}, 'Credentials'),
    h('p', {class: 'muted'}, 'When eddy checks signatures, the console signs every request with these (SigV4, in this browser). ' +
      'They stay in this tab only (sessionStorage). Leave empty to send requests unsigned.'),
    field('cr-akid', 'Access key ID', c.accessKeyId),
    field('cr-secret', 'Secret access key', c.secretAccessKey, 'password'),
    field('cr-token', 'Session token (optional)', c.sessionToken),
    field('cr-region', 'Region', c.region),
    h('div', {class: 'buttons'},
      h('button', {type: 'submit', id: 'cr-save'}, 'Save'),
      h('button', {type: 'button', id: 'cr-clear', onclick: () => { saveCredentials(null); close(); drawCreds(); route(); }}, 'Forget'),
      h('button', {type: 'button', onclick: close}, 'Cancel')));
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    const v = id => form.querySelector('#' + id).value.trim();
    saveCredentials(v('cr-akid') ? {accessKeyId: v('cr-akid'), secretAccessKey: v('cr-secret'),
      sessionToken: v('cr-token') || undefined, region: v('cr-region') || 'us-east-1'} : null);
    close();
    drawCreds();
    route();
  });
  overlay.append(form);
  document.body.append(overlay);
}

document.getElementById('creds').addEventListener('click', credsForm);
drawCreds();
window.addEventListener('hashchange', route);
route();
