// A job: its chart of durations and outcomes over time, its triggers with
// their next fire times, and its recent runs.

import {h, replace} from '../lib/dom.js';
import * as api from '../lib/api.js';
import {askRun, button, pausedNote, pauseButton, poll} from '../lib/ui.js';
import {durationChart, legend} from '../lib/chart.js';
import {formatDuration, isTerminal, relative, runDuration, triggerWord} from '../lib/format.js';
import {fireTimes, runsTable, splitSchedule} from './common.js';

const CHART_RUNS = 60;
const TABLE_RUNS = 15;

export function jobPage(el, name) {
  document.title = `${name} · Longshore`;
  const desc = h('div', {class: 'sub'}, '');
  const paused = h('div', {});
  const pauseSlot = h('span', {});
  const showPause = (job, now) => {
    replace(paused, pausedNote(job, now));
    replace(pauseSlot, pauseButton(job, (next) => showPause(next, new Date())));
  };
  const chartBox = h('div', {class: 'card-body', 'data-chart': name});
  const legendBox = h('div', {});
  const stats = h('div', {class: 'stats'});
  const triggers = h('ul', {class: 'triggers'});
  const table = h('div', {}, h('div', {class: 'skeleton'}, 'Loading runs…'));

  replace(el,
    h('div', {class: 'crumbs'}, h('a', {href: '/'}, 'Jobs'), ' / '),
    h('div', {class: 'page-head'},
      h('div', {}, h('h1', {}, name), desc, paused),
      h('div', {class: 'actions'},
        h('a', {class: 'btn', href: '/runs?job=' + encodeURIComponent(name)}, 'All runs of this job'),
        pauseSlot,
        button('Run', {kind: 'primary', iconName: 'play', 'data-action': 'run', 'data-job': name, onclick: () => askRun(name)}))),
    h('section', {class: 'card'},
      h('div', {class: 'card-head'}, h('h2', {}, 'Durations and outcomes'), h('div', {class: 'aside'}, `last ${CHART_RUNS} runs, oldest on the left`)),
      chartBox, legendBox, stats),
    h('section', {class: 'card'}, h('div', {class: 'card-head'}, h('h2', {}, 'Triggers')), triggers),
    h('section', {class: 'card'},
      h('div', {class: 'card-head'}, h('h2', {}, 'Recent runs'), h('div', {class: 'aside'}, h('a', {href: '/runs?job=' + encodeURIComponent(name)}, 'All runs →'))),
      table));

  return poll(async (signal) => {
    const [jobs, list] = await Promise.all([api.jobs(signal), api.runs({job: name, limit: CHART_RUNS}, signal)]);
    const job = jobs.find((j) => j.name === name);
    if (!job) {
      replace(el, h('div', {class: 'card empty'}, h('strong', {}, `There is no job named ${name}`),
        'The catalog has: ', jobs.map((j, i) => [i ? ', ' : '', h('a', {href: '/jobs/' + encodeURIComponent(j.name)}, j.name)]), '.'));
      return;
    }
    const now = new Date();
    desc.textContent = job.description || '';
    showPause(job, now);
    const runs = list.runs;
    const width = Math.max(480, chartBox.clientWidth - 36);
    replace(chartBox, durationChart(runs, {width, height: 200, now, label: name}));
    replace(legendBox, legend(runs));
    replace(stats, statsOf(runs, now, job).map(([k, v]) => h('div', {class: 'stat'}, h('div', {class: 'k'}, k), h('div', {class: 'v'}, v))));
    replace(triggers, triggerItems(job, now));
    replace(table, runs.length
      ? runsTable(runs.slice(0, TABLE_RUNS), now, {showJob: false})
      : h('div', {class: 'empty'}, h('strong', {}, 'No runs yet'), `Start one with the Run button, or: longshore run ${name}`));
  }, 3000);
}

function statsOf(runs, now, job) {
  const done = runs.filter((r) => isTerminal(r.status));
  const ok = done.filter((r) => r.status === 'succeeded').length;
  const durations = done.map((r) => runDuration(r, now)).filter((d) => d !== null).sort((a, b) => a - b);
  const median = durations.length ? durations[Math.floor((durations.length - 1) / 2)] : null;
  const last = runs[0];
  const next = (job.schedules || []).map((s) => s.nextFire).filter(Boolean).sort()[0] || job.nextFire;
  return [
    ['Success rate', done.length ? `${Math.round((100 * ok) / done.length)}%` : '—'],
    ['Median duration', formatDuration(median)],
    ['Last run', last ? relative(last.createdAt, now) : 'never'],
    ['Next scheduled run', next ? relative(next, now) : 'not scheduled'],
  ];
}

function triggerItems(job, now) {
  const items = [];
  const schedules = job.schedules || [];
  for (const word of job.triggers || []) {
    const {kind, rest} = triggerWord(word);
    if (kind === 'schedule') {
      const [expr, zone] = splitSchedule(rest);
      const s = schedules.find((x) => x.expression === expr) || {};
      const tz = s.timezone || zone || 'UTC';
      items.push(h('li', {'data-trigger': 'schedule'},
        h('span', {class: 'kind'}, 'Schedule'),
        h('span', {}, h('code', {}, expr), h('span', {class: 'muted'}, ` in ${tz}`)),
        h('span', {class: 'when'}, s.nextFire ? fireTimes(s.nextFire, tz, now)
          : h('span', {class: 'muted'}, expr.startsWith('rate(') ? 'counted from when the schedule was made' : 'no more fire times'))));
    } else if (kind === 's3') {
      items.push(h('li', {'data-trigger': 's3'}, h('span', {class: 'kind'}, 'S3'),
        h('span', {}, 'Each object created under ', h('code', {}, rest), ' in the uploads bucket'), h('span', {})));
    } else if (kind === 'sqs') {
      items.push(h('li', {'data-trigger': 'sqs'}, h('span', {class: 'kind'}, 'SQS'),
        h('span', {}, 'Each message on the queue ', h('code', {}, rest)), h('span', {})));
    } else if (kind === 'invoke') {
      items.push(h('li', {'data-trigger': 'invoke'}, h('span', {class: 'kind'}, 'On request'),
        h('span', {}, 'One-off runs: the Run button, ', h('code', {}, `longshore run ${job.name}`), ', or the launcher\'s invoke'), h('span', {})));
    } else {
      items.push(h('li', {}, h('span', {class: 'kind'}, kind), h('span', {}, rest), h('span', {})));
    }
  }
  if (!items.length) items.push(h('li', {}, h('span', {class: 'kind muted'}, 'None'), h('span', {class: 'muted'}, 'This job runs only when asked.'), h('span', {})));
  return items;
}
