// The chart of a job's runs: one bar per run, oldest on the left, its
// height the run's duration and its colour the outcome. A run that never
// started is a ring on the baseline. Drawn as inline SVG.

import {svg, h} from './dom.js';
import {formatDuration, isTerminal, neverStarted, niceMax, runDuration, stamp, statusLabel, tone} from './format.js';

let tip;

function tooltip() {
  if (!tip) {
    tip = h('div', {class: 'tooltip', role: 'tooltip', hidden: true});
    document.body.append(tip);
  }
  return tip;
}

function showTip(ev, lines) {
  const t = tooltip();
  t.replaceChildren(...lines.map((l, i) => (i === 0 ? h('strong', {}, l) : h('div', {}, l))));
  t.hidden = false;
  const x = Math.min(ev.clientX + 14, window.innerWidth - t.offsetWidth - 8);
  const y = ev.clientY - t.offsetHeight - 12 < 8 ? ev.clientY + 16 : ev.clientY - t.offsetHeight - 12;
  t.style.left = `${x}px`;
  t.style.top = `${y}px`;
}

export function hideTip() {
  if (tip) tip.hidden = true;
}

function describe(r, now) {
  const d = runDuration(r, now);
  const what = neverStarted(r) && r.cause === 'start' ? 'never started' : statusLabel(r.status).toLowerCase();
  const exit = r.exitCode !== null && r.exitCode !== undefined ? `, exit code ${r.exitCode}` : '';
  return [r.id, `${what}${exit}`, d === null ? 'did not run' : `ran ${formatDuration(d)}`, stamp(r.createdAt)];
}

// counts tallies outcomes: {ok, bad, warn, idle, live, never}.
export function counts(runs) {
  const c = {ok: 0, bad: 0, warn: 0, idle: 0, live: 0, never: 0};
  for (const r of runs) {
    if (neverStarted(r) && r.cause === 'start') c.never++;
    else c[tone(r.status) === 'start' ? 'live' : tone(r.status)]++;
  }
  return c;
}

// durationChart draws runs (newest first, as the API lists them).
// compact draws a small chart without axes for lists.
export function durationChart(runs, {width = 800, height = 200, compact = false, slots, now = new Date(), label = ''} = {}) {
  const list = runs.slice().reverse();
  const n = Math.max(list.length, slots || (compact ? 24 : 40));
  const pad = compact ? {l: 0, r: 0, t: 3, b: 3} : {l: 52, r: 8, t: 12, b: 26};
  const pw = width - pad.l - pad.r;
  const ph = height - pad.t - pad.b;
  const slot = pw / n;
  const bw = Math.max(2, Math.min(compact ? slot * 0.72 : slot * 0.66, compact ? 6 : 22));
  const durations = list.map((r) => runDuration(r, now)).filter((d) => d !== null);
  const top = niceMax(Math.max(0, ...durations));
  const y = (d) => pad.t + ph - (d / top) * ph;
  const base = pad.t + ph;

  const c = counts(list);
  const summary = `${label ? label + ': ' : ''}${list.length} runs; ${c.ok} succeeded, ${c.bad} failed, ${c.never} never started, ${c.warn} timed out`;
  const root = svg('svg', {class: 'chart' + (compact ? ' spark' : ''), width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary});

  if (!compact) {
    for (const f of [0, 0.5, 1]) {
      const v = top * f;
      const yy = Math.round(y(v)) + 0.5;
      root.append(svg('line', {class: 'grid' + (f === 0 ? ' base' : ''), x1: pad.l, x2: width - pad.r, y1: yy, y2: yy, 'stroke-dasharray': f === 0 ? null : '3 4'}));
      root.append(svg('text', {x: pad.l - 8, y: yy + 4, 'text-anchor': 'end'}, f === 0 ? '0' : formatDuration(v)));
    }
  } else {
    root.append(svg('line', {class: 'grid base', x1: 0, x2: width, y1: base + 0.5, y2: base + 0.5}));
  }

  const offset = n - list.length;
  list.forEach((r, i) => {
    const cx = pad.l + (offset + i + 0.5) * slot;
    const d = runDuration(r, now);
    const t = tone(r.status);
    const attrs = {
      class: 'bar', 'data-run': r.id, 'data-href': '/runs/' + r.id, 'aria-label': describe(r, now).join(', '),
      onmousemove: (ev) => showTip(ev, describe(r, now)), onmouseleave: hideTip,
    };
    if (d === null) {
      if (r.cause === 'start') {
        root.append(svg('circle', {...attrs, class: 'bar ring', cx, cy: base - (compact ? 3 : 5), r: compact ? 2.4 : 4}));
      } else if (isTerminal(r.status)) {
        root.append(svg('rect', {...attrs, class: 'bar fill-idle', x: cx - bw / 2, y: base - 2, width: bw, height: 2, rx: 1}));
      } else {
        root.append(svg('rect', {...attrs, class: `bar fill-${t}`, x: cx - bw / 2, y: base - 3, width: bw, height: 3, rx: 1, opacity: 0.6}));
      }
      return;
    }
    const top = Math.min(y(d), base - (compact ? 4 : 2));
    root.append(svg('rect', {...attrs, class: `bar fill-${t === 'start' ? 'live' : t}`, x: cx - bw / 2, y: top, width: bw,
      height: base - top, rx: Math.min(2, bw / 3), opacity: isTerminal(r.status) ? null : 0.6}));
  });

  if (!compact && list.length) {
    const first = list[0];
    const last = list[list.length - 1];
    root.append(svg('text', {x: pad.l + (offset + 0.5) * slot - bw / 2, y: height - 6, 'text-anchor': 'start'}, stamp(first.createdAt)));
    if (list.length > 1) root.append(svg('text', {x: width - pad.r, y: height - 6, 'text-anchor': 'end'}, stamp(last.createdAt)));
  }
  if (!compact && !list.length) {
    root.append(svg('text', {x: pad.l + pw / 2, y: pad.t + ph / 2, 'text-anchor': 'middle'}, 'No runs yet'));
  }
  return root;
}

// legend names the colours, with counts.
export function legend(runs) {
  const c = counts(runs);
  const items = [['fill-ok', 'Succeeded', c.ok], ['fill-bad', 'Failed', c.bad], ['mark', 'Never started', c.never],
    ['fill-warn', 'Timed out', c.warn], ['fill-idle', 'Cancelled', c.idle], ['fill-live', 'In progress', c.live]];
  return h('div', {class: 'legend'}, items.filter(([, , n], i) => n > 0 || i < 2).map(([cls, name, n]) =>
    h('span', {}, h('i', {class: cls}), `${name} ${n}`)));
}
