// Pieces shared by the pages: the runs table, trigger chips and next fire
// times.

import {h} from '../lib/dom.js';
import {exitCell, pill} from '../lib/ui.js';
import {formatDuration, inZone, localZone, relative, runDuration, shortTrigger, stamp, triggerWord} from '../lib/format.js';

const CAUSE = {exit: 'exited', start: 'never started', interrupted: 'interrupted', lost: 'lost'};

export function causeWord(c) {
  return c ? CAUSE[c] || c : null;
}

// runsTable lists runs; showJob adds the job column.
export function runsTable(runs, now, {showJob = true} = {}) {
  const head = h('tr', {},
    h('th', {}, 'Status'), h('th', {}, 'Run'), showJob && h('th', {}, 'Job'), h('th', {class: 'num'}, 'Exit code'),
    h('th', {}, 'Cause'), h('th', {}, 'Trigger'), h('th', {class: 'num'}, 'Attempt'), h('th', {}, 'Created'),
    h('th', {class: 'num'}, 'Duration'));
  const body = h('tbody', {}, runs.map((r) => runRow(r, now, showJob)));
  return h('div', {class: 'table-wrap'}, h('table', {class: 'runs'}, h('thead', {}, head), body));
}

export function runRow(r, now, showJob = true) {
  const cause = causeWord(r.cause);
  return h('tr', {'data-href': '/runs/' + r.id, 'data-run': r.id, 'data-status': r.status},
    h('td', {}, pill(r.status)),
    h('td', {class: 'id'}, h('a', {href: '/runs/' + r.id}, r.id)),
    showJob && h('td', {}, h('a', {href: '/jobs/' + encodeURIComponent(r.job)}, r.job)),
    h('td', {class: 'num'}, exitCell(r)),
    h('td', {}, cause ? cause : h('span', {class: 'faint'}, '—')),
    h('td', {}, shortTrigger(r.trigger)),
    h('td', {class: 'num'}, String(r.attempt || 1)),
    h('td', {title: stamp(r.createdAt)}, relative(r.createdAt, now)),
    h('td', {class: 'num'}, r.startedAt ? formatDuration(runDuration(r, now)) : h('span', {class: 'faint'}, '—')));
}

// triggerChip shows one of the API's trigger words.
export function triggerChip(word) {
  const {kind, rest} = triggerWord(word);
  switch (kind) {
    case 'schedule': {
      const [expr, zone] = splitSchedule(rest);
      return h('span', {class: 'chip', title: `schedule ${rest}`}, h('b', {}, 'Schedule'), expr, zone ? h('span', {class: 'muted'}, zone) : null);
    }
    case 's3':
      return h('span', {class: 'chip', title: `S3 uploads matching ${rest}`}, h('b', {}, 'S3'), rest);
    case 'sqs':
      return h('span', {class: 'chip', title: `SQS messages on ${rest}`}, h('b', {}, 'SQS'), rest);
    case 'invoke':
      return h('span', {class: 'chip', title: 'one-off runs on request'}, h('b', {}, 'On request'));
  }
  return h('span', {class: 'chip'}, word);
}

// splitSchedule splits "cron(0 3 * * ? *) Europe/Berlin" into the
// expression and the zone.
export function splitSchedule(rest) {
  const close = rest.lastIndexOf(')');
  if (close < 0) return [rest, ''];
  return [rest.slice(0, close + 1), rest.slice(close + 1).trim()];
}

// soonest is the job's soonest upcoming schedule: {expression, timezone, nextFire} or null.
export function soonest(job) {
  const all = (job.schedules || []).filter((s) => s.nextFire);
  if (!all.length && job.nextFire) {
    // An engine that lists no schedules: the zone is known when the job has one schedule.
    const words = (job.triggers || []).map(triggerWord).filter((t) => t.kind === 'schedule');
    const zone = words.length === 1 ? splitSchedule(words[0].rest)[1] : '';
    return {expression: '', timezone: zone || 'UTC', nextFire: job.nextFire};
  }
  all.sort((a, b) => new Date(a.nextFire) - new Date(b.nextFire));
  return all[0] || null;
}

// fireTimes shows a fire time in the schedule's zone and, when it differs,
// in the browser's.
export function fireTimes(at, zone, now) {
  const here = localZone();
  const sameZone = !zone || zone === here || inZone(at, zone) === inZone(at, here);
  return [
    h('div', {class: 'next-when'}, relative(at, now)),
    h('div', {class: 'next-zone', 'data-zone': zone || 'UTC'}, inZone(at, zone || 'UTC')),
    sameZone ? null : h('div', {class: 'next-zone faint', 'data-zone': here}, inZone(at, here, {weekday: false}) + ' your time'),
  ];
}

// onWhat says how a job without schedules starts.
export function onWhat(job) {
  const kinds = new Set((job.triggers || []).map((t) => triggerWord(t).kind));
  const parts = [];
  if (kinds.has('s3')) parts.push('each upload');
  if (kinds.has('sqs')) parts.push('each message');
  if (kinds.has('invoke') || !kinds.size) parts.push('request');
  return 'On ' + parts.join(', ');
}
