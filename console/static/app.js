// The console's router: #/screen/arg... in the URL's fragment, one module
// per screen. A screen's render(main, args) returns an optional stop
// function, called when the user leaves (the stream tail's polling).
import {h, mount, errorBox} from './dom.js';
import * as tables from './tables.js';
import * as streamsScreen from './streams.js';
import * as triggers from './triggers.js';
import * as dlq from './dlq.js';

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

window.addEventListener('hashchange', route);
route();
