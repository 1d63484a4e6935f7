// Jobs: the catalog, each job with its triggers, its next fire time (in its
// own zone and in the browser's), its recent runs, its last outcome and its
// cost over the last 30 days.

import {h, replace} from '../lib/dom.js';
import * as api from '../lib/api.js';
import {askRun, button, pausedNote, pauseButton, pill, poll} from '../lib/ui.js';
import {durationChart} from '../lib/chart.js';
import {costLabel, formatCost, formatDuration, isTerminal, localZone, relative, runDuration, stamp} from '../lib/format.js';
import {fireTimes, onWhat, soonest, triggerChip} from './common.js';

const SPARK_RUNS = 24;

export function jobsPage(el) {
  document.title = 'Jobs · Longshore';
  const sub = h('div', {class: 'sub'}, 'Loading the catalog…');
  const list = h('div', {class: 'card jobs', 'data-jobs': ''},
    h('div', {class: 'job-row head'}, h('div', {}, 'Job'), h('div', {}, 'Next run'), h('div', {}, `Last ${SPARK_RUNS} runs`), h('div', {}, 'Last run'), h('div', {})));
  replace(el,
    h('div', {class: 'page-head'},
      h('div', {}, h('h1', {}, 'Jobs'), sub),
      h('div', {class: 'actions'}, h('a', {class: 'btn', href: '/runs'}, 'All runs'))),
    list);

  const rows = new Map();
  return poll(async (signal) => {
    let jobs;
    try {
      jobs = await api.jobs(signal);
    } catch (err) {
      if (err.name !== 'AbortError') sub.textContent = `Could not read the catalog: ${err.message}`;
      throw err;
    }
    const recent = await Promise.all(jobs.map((j) => api.runs({job: j.name, limit: SPARK_RUNS}, signal).then((r) => r.runs).catch(() => [])));
    const now = new Date();
    sub.textContent = `${jobs.length} job${jobs.length === 1 ? '' : 's'} in the catalog · times shown in each job's zone and in yours (${localZone()})`;
    if (!jobs.length) {
      replace(list, h('div', {class: 'empty'}, h('strong', {}, 'No jobs'), 'Add a jobs/<name>/job.yaml and restart longshore local.'));
      return;
    }
    jobs.forEach((job, i) => {
      let row = rows.get(job.name);
      if (!row) {
        row = makeRow(job);
        rows.set(job.name, row);
        list.append(row.el);
      }
      updateRow(row, job, recent[i], now);
    });
  }, 4000);
}

function makeRow(job) {
  const next = h('div', {class: 'next'});
  const spark = h('div', {class: 'spark-cell'});
  const last = h('div', {class: 'last'});
  const paused = h('div', {});
  const pauseSlot = h('span', {});
  const name = encodeURIComponent(job.name);
  const el = h('div', {class: 'job-row', 'data-job': job.name},
    h('div', {},
      h('a', {class: 'job-name', href: '/jobs/' + name}, job.name),
      h('div', {class: 'job-desc'}, job.description || h('span', {class: 'faint'}, 'No description')),
      h('div', {class: 'chips'}, (job.triggers || []).map(triggerChip)),
      paused),
    next, spark, last,
    h('div', {class: 'row-actions'}, button('Run', {iconName: 'play', small: true, 'data-action': 'run', 'data-job': job.name,
      title: `Start a one-off run of ${job.name}`, onclick: () => askRun(job.name)}), pauseSlot));
  return {el, next, spark, last, paused, pauseSlot};
}

// showPause shows whether a job is paused, and the button that changes it.
function showPause(row, job, now) {
  replace(row.paused, pausedNote(job, now));
  replace(row.pauseSlot, pauseButton(job, (next) => showPause(row, next, new Date())));
}

function updateRow(row, job, runs, now) {
  showPause(row, job, now);
  const s = soonest(job);
  if (s) replace(row.next, fireTimes(s.nextFire, s.timezone, now));
  else replace(row.next, h('div', {class: 'muted'}, onWhat(job)));

  replace(row.spark, runs.length
    ? h('a', {href: '/jobs/' + encodeURIComponent(job.name), 'aria-label': `Runs of ${job.name}`},
      durationChart(runs, {width: 172, height: 34, compact: true, slots: SPARK_RUNS, now, label: job.name}))
    : h('span', {class: 'faint'}, 'No runs yet'));

  const r = job.lastRun || runs[0];
  if (!r) {
    replace(row.last, h('span', {class: 'faint'}, 'Never run'));
    return;
  }
  const meta = [];
  if (r.cause === 'start') meta.push('never started');
  if (r.exitCode !== null && r.exitCode !== undefined) meta.push(`exit ${r.exitCode}`);
  if (isTerminal(r.status)) meta.push(relative(r.stoppedAt || r.createdAt, now));
  else if (r.startedAt) meta.push(`for ${formatDuration(runDuration(r, now))}`);
  else meta.push(`since ${relative(r.createdAt, now)}`);
  replace(row.last,
    h('a', {href: '/runs/' + r.id, title: `${r.id} · ${stamp(r.createdAt)}`, 'data-last-run': r.id}, pill(r.status)),
    h('div', {class: 'meta'}, meta.join(' · ')),
    costLine(job));
}

// costLine is the job's cost over the last 30 days, when the engine gave it.
function costLine(job) {
  if (job.costUSD30d === null || job.costUSD30d === undefined) return null;
  const sum = (job.costPartial ? '≥' : '') + formatCost(job.costUSD30d);
  const runs = `${job.costRuns30d || 0} finished run${job.costRuns30d === 1 ? '' : 's'}${job.costPartial ? ' read' : ''}`;
  return h('div', {class: 'meta', 'data-cost-30d': job.costUSD30d,
    title: `${runs} of the last 30 days, ${costLabel(job.costBasis, '')}`}, `${sum} in 30 days`);
}
