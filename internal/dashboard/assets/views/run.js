// A run: what happened in plain words, its timeline, the tail of its
// output following live, its facts, and Stop / Run again.

import {h, icon, replace} from '../lib/dom.js';
import * as api from '../lib/api.js';
import {button, pill, poll, startRun, toast} from '../lib/ui.js';
import {costLabel, describeTrigger, formatCost, formatDuration, isTerminal, outcome, runDuration, stamp, timeline} from '../lib/format.js';
import {causeWord} from './common.js';

const TAIL_BYTES = 64 * 1024;
const KEEP_CHARS = 512 * 1024;

export function runPage(el, id) {
  document.title = `${id} · Longshore`;
  const title = h('h1', {}, id);
  const sub = h('div', {class: 'sub'});
  const status = h('span', {});
  const actions = h('div', {class: 'actions'});
  const outcomeBox = h('section', {class: 'card outcome', 'data-outcome': ''});
  const steps = h('ol', {class: 'timeline', 'aria-label': 'Timeline'});
  const facts = h('dl', {class: 'facts', 'data-facts': ''});
  const extra = h('div', {class: 'stack'});
  const logs = logViewer(id);

  replace(el,
    h('div', {class: 'crumbs'}, h('a', {href: '/runs'}, 'Runs'), ' / ', h('span', {class: 'mono'}, id)),
    h('div', {class: 'page-head'}, h('div', {}, h('div', {class: 'title-row'}, title, status), sub), actions),
    h('div', {class: 'skeleton', 'data-loading': ''}, 'Loading the run…'));

  let shown = false;
  let current = null;
  // The runs this one started (after triggers), looked up once it has
  // ended: the jobs whose triggers say "after <job>", and their newest
  // runs whose trigger names this run. No query of the store by upstream
  // exists, so a downstream run older than a job's newest 50 is not shown.
  let downstream = [];
  let lookedDownstream = false;
  const findDownstream = async (r, signal) => {
    lookedDownstream = true;
    const jobs = (await api.jobs(signal)).filter((j) => (j.triggers || []).some((w) => w.startsWith(`after ${r.job} (`)));
    const found = [];
    for (const j of jobs) {
      const {runs} = await api.runs({job: j.name, limit: 50}, signal);
      found.push(...runs.filter((d) => d.trigger && d.trigger.upstreamRunId === r.id));
    }
    downstream = found;
  };
  const stopActions = {stop: null, again: null};

  const render = (r) => {
    const now = new Date();
    if (!shown) {
      shown = true;
      el.querySelector('[data-loading]').remove();
      el.append(h('div', {class: 'run-grid'},
        h('div', {class: 'stack'}, outcomeBox, h('section', {class: 'card'}, h('div', {class: 'card-head'}, h('h2', {}, 'Timeline')), steps), logs.el),
        h('div', {class: 'stack'}, h('section', {class: 'card'}, h('div', {class: 'card-head'}, h('h2', {}, 'Details')), facts), extra)));
      stopActions.stop = button('Stop', {kind: 'danger', iconName: 'stop', 'data-action': 'stop', onclick: () => doStop()});
      stopActions.again = button('Run again', {iconName: 'again', 'data-action': 'again', onclick: () => runAgain()});
      replace(actions, stopActions.stop, stopActions.again);
    }
    current = r;
    title.replaceChildren(h('a', {href: '/jobs/' + encodeURIComponent(r.job), class: 'job-link'}, r.job));
    replace(status, pill(r.status, {large: true}));
    replace(sub, h('span', {class: 'mono'}, r.id), ` · attempt ${r.attempt || 1} · ${describeTrigger(r.trigger)} · created ${stamp(r.createdAt)}`);
    stopActions.stop.hidden = isTerminal(r.status);

    const o = outcome(r, now);
    const iconName = {ok: 'check', bad: 'cross', warn: 'clock', live: 'bolt', start: 'bolt', idle: 'minus'}[o.tone];
    replace(outcomeBox,
      h('div', {class: `outcome-icon tone-${o.tone}`}, icon(iconName)),
      h('div', {},
        h('h2', {'data-outcome-title': ''}, o.title),
        o.detail ? h('div', {class: 'detail'}, o.detail) : null,
        o.hint ? h('div', {class: 'hint'}, o.hint) : null,
        r.nextRunId ? h('div', {class: 'hint'}, 'Retried: ', h('a', {href: '/runs/' + r.nextRunId}, `attempt ${(r.attempt || 1) + 1} (${r.nextRunId}) →`)) : null));

    replace(steps, timeline(r, now).map((s) => h('li', {class: 'step', 'data-state': s.state, 'data-step': s.key},
      h('div', {class: 'step-dot'}, stepIcon(s.state)),
      h('div', {class: 'step-label'}, s.label),
      h('div', {class: 'step-time'}, s.at ? stamp(s.at) : '\u00a0'),
      h('div', {class: 'step-note'}, s.note || '\u00a0'))));

    const d = runDuration(r, now);
    const row = (k, v, attrs = {}) => [h('dt', {}, k), h('dd', attrs, v)];
    replace(facts,
      row('Exit code', r.exitCode === null || r.exitCode === undefined ? h('span', {class: 'faint'}, 'none') : h('span', {class: ['big-exit', r.exitCode === 0 ? 'exit-ok' : 'exit-bad']}, String(r.exitCode)), {'data-exit-code': r.exitCode ?? ''}),
      row('Status', pill(r.status)),
      row('Cause', causeWord(r.cause) || h('span', {class: 'faint'}, '—')),
      row('Trigger', [describeTrigger(r.trigger), r.trigger && r.trigger.upstreamRunId
        ? [' · ', h('a', {href: '/runs/' + r.trigger.upstreamRunId, 'data-upstream': ''}, `← ${r.trigger.upstreamRunId}`)] : null]),
      downstream.length ? row('Downstream', downstream.map((d, i) => [i ? ', ' : '',
        h('a', {href: '/runs/' + d.id, 'data-downstream': ''}, `${d.job} ${d.id} →`)])) : null,
      row('Attempt', [String(r.attempt || 1),
        r.previousRunId ? [' · ', h('a', {href: '/runs/' + r.previousRunId}, '← previous')] : null,
        r.nextRunId ? [' · ', h('a', {href: '/runs/' + r.nextRunId}, 'next →')] : null]),
      row('Duration', d === null ? h('span', {class: 'faint'}, 'did not run') : formatDuration(d)),
      row('Cost', r.costUSD === null || r.costUSD === undefined ? h('span', {class: 'faint'}, isTerminal(r.status) ? 'not recorded' : 'when it ends')
        : [h('span', {title: `$${r.costUSD.toFixed(6)}`}, formatCost(r.costUSD)), ' ', h('span', {class: 'faint'}, costLabel(r.costBasis, r.costRegion))],
      {'data-cost': r.costUSD ?? ''}),
      row('Created', stamp(r.createdAt)),
      row('Started', r.startedAt ? stamp(r.startedAt) : h('span', {class: 'faint'}, '—')),
      row('Stopped', r.stoppedAt ? stamp(r.stoppedAt) : h('span', {class: 'faint'}, '—')),
      r.taskRef ? row('Task', h('span', {class: 'mono'}, r.taskRef)) : null);

    const env = Object.entries(r.env || {});
    replace(extra,
      env.length ? h('section', {class: 'card'}, h('div', {class: 'card-head'}, h('h2', {}, 'Environment overrides')),
        h('div', {class: 'card-body'}, h('ul', {class: 'env-list'}, env.sort().map(([k, v]) => h('li', {}, `${k}=${v}`))))) : null,
      r.command && r.command.length ? h('section', {class: 'card'}, h('div', {class: 'card-head'}, h('h2', {}, 'Command')),
        h('div', {class: 'card-body'}, h('code', {}, r.command.join(' ')))) : null);
  };

  const doStop = async () => {
    stopActions.stop.disabled = true;
    try {
      const r = await api.stop(id);
      render(r);
      toast(isTerminal(r.status) ? `${id} stopped` : `Stopping ${id}…`);
    } catch (err) {
      toast(`Could not stop ${id}: ${err.message}`, {bad: true});
    } finally {
      stopActions.stop.disabled = false;
    }
  };

  const runAgain = async () => {
    if (!current) return;
    stopActions.again.disabled = true;
    const req = {job: current.job};
    if (current.env && Object.keys(current.env).length) req.env = current.env;
    if (current.command && current.command.length) req.command = current.command;
    await startRun(req);
    stopActions.again.disabled = false;
  };

  let notFound = false;
  const stopPoll = poll(async (signal) => {
    if (notFound) return;
    let r;
    try {
      r = await api.getRun(id, signal);
    } catch (err) {
      if (err.status === 404 || err.status === 400) {
        notFound = true;
        replace(el, h('div', {class: 'card empty'}, h('strong', {}, `There is no run ${id}`), err.message,
          h('p', {}, h('a', {href: '/runs'}, 'See every run'))));
      }
      throw err;
    }
    if (!lookedDownstream && isTerminal(r.status) && !r.nextRunId) {
      await findDownstream(r, signal).catch(() => {});
    }
    render(r);
    logs.follow();
  }, 1000);

  return () => {
    stopPoll();
    logs.dispose();
  };
}

function stepIcon(state) {
  switch (state) {
    case 'done': return icon('check');
    case 'failed': return icon('cross');
    case 'warn': return icon('clock');
    case 'idle': return icon('minus');
  }
  return null;
}

// logViewer shows the tail of a run's stdout and stderr and follows them
// until the run is done, through the offset API.
function logViewer(id) {
  const streams = {
    stdout: {offset: null, done: false, text: '', cut: false, bytes: 0},
    stderr: {offset: null, done: false, text: '', cut: false, bytes: 0},
  };
  let selected = 'stdout';
  let busy = false;
  let userPicked = false;
  let combined = false;
  const ctl = new AbortController();
  const pre = h('pre', {class: 'log', 'data-log': '', tabindex: '0', 'data-empty': 'No output yet.'});
  const state = h('div', {class: 'logs-state'}, h('span', {class: 'live-dot'}), h('span', {}, 'Following'));
  const tabs = {};
  for (const s of ['stdout', 'stderr']) {
    tabs[s] = h('button', {type: 'button', role: 'tab', 'data-stream': s, 'aria-selected': String(s === selected), onclick: () => {
      userPicked = true;
      select(s);
    }}, s, h('span', {class: 'count'}, ''));
  }
  const el = h('section', {class: 'card logs', 'data-logs': ''},
    h('div', {class: 'logs-head'}, h('div', {class: 'logs-tabs', role: 'tablist'}, tabs.stdout, tabs.stderr), state), pre);

  const draw = () => {
    const s = streams[selected];
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 24;
    pre.replaceChildren();
    if (s.cut) pre.append(h('span', {class: 'cut'}, `… earlier output not shown (longshore logs ${id})\n`));
    if (s.text) pre.append(s.text);
    if (atBottom) pre.scrollTop = pre.scrollHeight;
    for (const k of Object.keys(streams)) {
      tabs[k].querySelector('.count').textContent = streams[k].bytes ? size(streams[k].bytes) : '';
    }
  };
  const select = (s) => {
    selected = s;
    for (const k of Object.keys(tabs)) tabs[k].setAttribute('aria-selected', String(k === s));
    draw();
    pre.scrollTop = pre.scrollHeight;
  };

  // combine shows stdout as the run's one stream of output, stderr
  // included, when the server keeps them together.
  const combine = () => {
    combined = true;
    tabs.stdout.firstChild.textContent = 'output';
    tabs.stdout.title = 'Everything the run wrote, stdout and stderr together, as its log stream holds it';
    tabs.stderr.hidden = true;
    streams.stderr.done = true;
    if (selected === 'stderr') select('stdout');
  };

  const readStream = async (name) => {
    const s = streams[name];
    if (s.done) return false;
    let changed = false;
    for (let i = 0; i < 16; i++) {
      const first = s.offset === null;
      const got = await api.logs(id, name, first ? {tail: TAIL_BYTES} : {offset: s.offset}, ctl.signal);
      if (got.combined && !combined) combine();
      let text = got.text;
      if (first && got.start > 0) {
        s.cut = true;
        text = text.slice(text.indexOf('\n') + 1);
      }
      if (text) {
        s.text += text;
        changed = true;
        if (s.text.length > KEEP_CHARS) {
          s.text = s.text.slice(s.text.length - KEEP_CHARS);
          s.text = s.text.slice(s.text.indexOf('\n') + 1);
          s.cut = true;
        }
      }
      const moved = got.next !== s.offset;
      s.offset = got.next;
      s.bytes = got.next;
      if (got.done) s.done = true;
      if (!moved || got.done || !text) break;
    }
    return changed;
  };

  const follow = async () => {
    if (busy || (streams.stdout.done && streams.stderr.done)) return;
    busy = true;
    try {
      const a = await readStream('stdout');
      const b = await readStream('stderr');
      if (!userPicked && !streams.stdout.text && streams.stderr.text && selected === 'stdout') select('stderr');
      else if (a || b) draw();
      if (streams.stdout.done && streams.stderr.done) {
        pre.dataset.empty = combined ? 'The run wrote nothing.' : 'Nothing was written to this stream.';
        replace(state, 'Complete');
        state.dataset.done = '';
        draw();
      }
    } catch (err) {
      if (err.name !== 'AbortError') replace(state, `Not following: ${err.message}`);
    } finally {
      busy = false;
    }
  };

  return {el, follow, dispose: () => ctl.abort()};
}

function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
