// Runs: every run, newest first, refreshed every two seconds, filtered by
// job and status (kept in the address, so a filtered view can be shared).

import {h, replace} from '../lib/dom.js';
import * as api from '../lib/api.js';
import {poll} from '../lib/ui.js';
import {clock} from '../lib/format.js';
import {runsTable} from './common.js';

const PAGE = 50;
const MAX = 1000;

// Status filters: a label and the statuses it asks the API for.
const FILTERS = [
  ['all', 'All', []],
  ['active', 'Active', ['queued', 'starting', 'running']],
  ['succeeded', 'Succeeded', ['succeeded']],
  ['failed', 'Failed', ['failed']],
  ['timed_out', 'Timed out', ['timed_out']],
  ['cancelled', 'Cancelled', ['cancelled']],
];

export function runsPage(el) {
  document.title = 'Runs · Longshore';
  const params = new URLSearchParams(location.search);
  const state = {
    job: params.get('job') || '',
    filter: FILTERS.some(([k]) => k === params.get('status')) ? params.get('status') : 'all',
    limit: PAGE,
  };

  const jobSelect = h('select', {class: 'select', id: 'filter-job', 'aria-label': 'Job'}, h('option', {value: ''}, 'All jobs'));
  if (state.job) jobSelect.append(h('option', {value: state.job}, state.job));
  jobSelect.value = state.job;
  const segs = h('div', {class: 'segmented', role: 'group', 'aria-label': 'Status'},
    FILTERS.map(([key, label]) => h('button', {type: 'button', 'data-filter': key, 'aria-pressed': String(key === state.filter)}, label)));
  const updated = h('span', {}, 'Loading…');
  const live = h('div', {class: 'live', title: 'This list refreshes every 2 seconds'}, h('span', {class: 'live-dot'}), updated);
  const sub = h('div', {class: 'sub'}, 'Every run, newest first.');
  const body = h('div', {'data-runs': ''}, h('div', {class: 'skeleton'}, 'Loading runs…'));
  const foot = h('div', {class: 'table-foot', hidden: true});

  replace(el,
    h('div', {class: 'page-head'}, h('div', {}, h('h1', {}, 'Runs'), sub)),
    h('div', {class: 'card'},
      h('div', {class: 'toolbar'}, h('label', {for: 'filter-job'}, 'Job'), jobSelect, h('label', {}, 'Status'), segs, live),
      body, foot));

  const keepInAddress = () => {
    const q = new URLSearchParams();
    if (state.job) q.set('job', state.job);
    if (state.filter !== 'all') q.set('status', state.filter);
    const s = q.toString();
    history.replaceState(null, '', '/runs' + (s ? '?' + s : ''));
  };
  jobSelect.addEventListener('change', () => {
    state.job = jobSelect.value;
    state.limit = PAGE;
    keepInAddress();
    stop.now();
  });
  segs.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-filter]');
    if (!b) return;
    state.filter = b.dataset.filter;
    state.limit = PAGE;
    for (const x of segs.querySelectorAll('button')) x.setAttribute('aria-pressed', String(x === b));
    keepInAddress();
    stop.now();
  });

  api.jobs().then((jobs) => {
    for (const j of jobs) if (j.name !== state.job) jobSelect.append(h('option', {value: j.name}, j.name));
    jobSelect.value = state.job;
  }).catch(() => {});

  const stop = poll(async (signal) => {
    const statuses = FILTERS.find(([k]) => k === state.filter)[2];
    const asked = {...state};
    let list;
    try {
      list = await api.runs({job: state.job, status: statuses, limit: state.limit}, signal);
    } catch (err) {
      if (err.name !== 'AbortError') {
        updated.textContent = 'Not updating';
        live.dataset.paused = '';
        replace(body, h('div', {class: 'empty'}, h('strong', {}, 'Could not list runs'), err.message));
      }
      throw err;
    }
    if (asked.job !== state.job || asked.filter !== state.filter || asked.limit !== state.limit) return;
    const now = new Date();
    delete live.dataset.paused;
    updated.textContent = `Live · updated ${clock(now)}`;
    if (!list.runs.length) {
      replace(body, h('div', {class: 'empty'}, h('strong', {}, 'No runs here yet'),
        state.job || state.filter !== 'all' ? 'No run matches these filters.' : 'Start one from the Jobs page, or with: longshore run JOB'));
    } else {
      replace(body, runsTable(list.runs, now));
    }
    foot.hidden = !list.next && list.runs.length < PAGE;
    replace(foot, `${list.runs.length} run${list.runs.length === 1 ? '' : 's'} shown`,
      list.next && state.limit < MAX ? h('button', {type: 'button', class: 'btn btn-sm', 'data-action': 'more', onclick: () => {
        state.limit = Math.min(MAX, state.limit + PAGE);
        stop.now();
      }}, 'Show more') : null);
  }, 2000);
  return stop;
}
