// The dashboard's entry point: routes the address to a page, keeps the top
// bar's engine status, and follows links without reloading.

import {h, replace} from './lib/dom.js';
import {onConnection} from './lib/api.js';
import {navigate, setRouter} from './lib/ui.js';
import {hideTip} from './lib/chart.js';
import {jobsPage} from './views/jobs.js';
import {jobPage} from './views/job.js';
import {runsPage} from './views/runs.js';
import {runPage} from './views/run.js';

const routes = [
  [/^\/$/, 'jobs', () => jobsPage],
  [/^\/jobs\/?$/, 'jobs', () => jobsPage],
  [/^\/jobs\/([^/]+)$/, 'jobs', () => jobPage],
  [/^\/runs\/?$/, 'runs', () => runsPage],
  [/^\/runs\/([^/]+)$/, 'runs', () => runPage],
];

const main = document.getElementById('main');
let dispose = null;

function notFound(el) {
  document.title = 'Not found · Longshore';
  replace(el, h('div', {class: 'card empty'},
    h('strong', {}, 'There is no such page'),
    h('p', {}, 'The dashboard has ', h('a', {href: '/'}, 'Jobs'), ' and ', h('a', {href: '/runs'}, 'Runs'), '.')));
}

function render() {
  if (dispose) dispose();
  dispose = null;
  hideTip();
  const path = location.pathname;
  let page = notFound;
  let section = '';
  let params = [];
  for (const [re, name, get] of routes) {
    const m = path.match(re);
    if (m) {
      page = get();
      section = name;
      params = m.slice(1).map(decodeURIComponent);
      break;
    }
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  dispose = page(main, ...params) || null;
  window.scrollTo(0, 0);
}

// Same-origin links and chart bars move between pages without a reload.
document.addEventListener('click', (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const target = ev.target.closest('a[href], [data-href]');
  if (!target) return;
  const href = target.getAttribute('data-href') || target.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('//') || target.getAttribute('target')) return;
  if (href.startsWith('/v1/')) return;
  ev.preventDefault();
  if (href !== location.pathname + location.search) navigate(href);
});

window.addEventListener('popstate', render);

const engine = document.getElementById('engine');
const offline = document.getElementById('offline');
onConnection((up, why) => {
  engine.dataset.state = up ? 'up' : 'down';
  engine.querySelector('.engine-label').textContent = up ? `Engine ${location.host}` : `Engine ${location.host} not answering`;
  offline.hidden = up;
  if (!up) {
    offline.textContent = why
      ? `${why.replace(/[.:\s]*$/, '')}. This page keeps trying.`
      : `The engine at ${location.host} does not answer. Is longshore local still running? This page keeps trying.`;
  }
});

setRouter(render);
render();
