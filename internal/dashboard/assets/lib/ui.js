// Pieces every page uses: navigation, polling, status pills, toasts, the
// dialog that starts a run and the one that pauses a job.

import {h, icon} from './dom.js';
import * as api from './api.js';
import {parseEnv, relative, statusLabel, tone} from './format.js';

let router = () => {};

export function setRouter(fn) {
  router = fn;
}

// navigate shows another page without reloading.
export function navigate(path, {replace = false} = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  router();
}

// poll calls fn now and then every ms milliseconds while the page is
// visible, never twice at once, until the returned stop is called. fn
// gets an AbortSignal that fires on stop; stop.now() polls at once (after
// the call in flight, if any).
export function poll(fn, every) {
  const ctl = new AbortController();
  let timer = null;
  let running = false;
  let again = false;
  const tick = async () => {
    timer = null;
    if (ctl.signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    if (document.hidden) {
      timer = setTimeout(tick, every);
      return;
    }
    running = true;
    try {
      await fn(ctl.signal);
    } catch (err) {
      if (err.name !== 'AbortError') console.warn(err.message || err);
    } finally {
      running = false;
    }
    if (ctl.signal.aborted) return;
    timer = setTimeout(tick, again ? 0 : every);
    again = false;
  };
  const now = () => {
    if (timer !== null) clearTimeout(timer);
    tick();
  };
  const wake = () => {
    if (!document.hidden) now();
  };
  document.addEventListener('visibilitychange', wake);
  tick();
  const stop = () => {
    ctl.abort();
    if (timer !== null) clearTimeout(timer);
    document.removeEventListener('visibilitychange', wake);
  };
  stop.now = now;
  return stop;
}

export function pill(status, {large = false} = {}) {
  return h('span', {class: ['pill', large && 'pill-lg', 'tone-' + tone(status)], 'data-status': status}, statusLabel(status));
}

export function exitCell(r) {
  if (r.exitCode === null || r.exitCode === undefined) return h('span', {class: 'faint'}, '—');
  return h('span', {class: r.exitCode === 0 ? 'exit-ok' : 'exit-bad'}, String(r.exitCode));
}

export function toast(message, {bad = false} = {}) {
  const box = document.getElementById('toasts');
  const el = h('div', {class: ['toast', bad && 'bad'], role: bad ? 'alert' : 'status'}, message);
  box.append(el);
  setTimeout(() => el.remove(), bad ? 9000 : 4000);
}

export function button(label, {kind = '', iconName = '', small = false, ...attrs} = {}) {
  return h('button', {type: 'button', class: ['btn', kind && 'btn-' + kind, small && 'btn-sm'], ...attrs},
    iconName ? icon(iconName, iconName === 'play' || iconName === 'stop') : null, label);
}

// startRun starts a run and shows its page; it says what went wrong if it
// could not.
export async function startRun(req) {
  try {
    const r = await api.start(req);
    toast(`Started ${r.job}: ${r.id}`);
    navigate('/runs/' + r.id);
    return r;
  } catch (err) {
    toast(`Could not start a run of ${req.job}: ${err.message}`, {bad: true});
    return null;
  }
}

// askRun opens the dialog that starts a run of job, with optional
// environment variables.
// pauseButton is a job's Pause or Resume button, as the job is now; done
// is called with the job as it is after a pause or a resume.
export function pauseButton(job, onChange) {
  const done = (st) => onChange({...job, paused: !!st.paused, pausedReason: st.pausedReason || '', pausedSince: st.pausedSince || null});
  if (job.paused) {
    return button('Resume', {iconName: 'play', small: true, 'data-action': 'resume', 'data-job': job.name,
      title: `Resume ${job.name}: its triggers start runs again`, onclick: async (ev) => {
        const btn = ev.currentTarget;
        btn.disabled = true;
        try {
          done(await api.resume(job.name));
          toast(`Resumed ${job.name}`);
        } catch (err) {
          toast(`Could not resume ${job.name}: ${err.message}`, {bad: true});
          btn.disabled = false;
        }
      }});
  }
  return button('Pause', {iconName: 'pause', small: true, 'data-action': 'pause', 'data-job': job.name,
    title: `Pause ${job.name}: its schedules stop firing and its other triggers are recorded, not run`, onclick: () => askPause(job.name, done)});
}

// pausedNote says since when and why a job is paused, or nothing.
export function pausedNote(job, now) {
  if (!job.paused) return null;
  let words = 'Paused';
  if (job.pausedSince) words += ' ' + relative(job.pausedSince, now);
  if (job.pausedReason) words += ': ' + job.pausedReason;
  return h('span', {class: 'paused-note tone-warn', 'data-paused': job.name}, words);
}

function askPause(job, done) {
  const dlg = document.getElementById('pause-dialog');
  const form = dlg.querySelector('form');
  const reason = dlg.querySelector('#pause-reason');
  dlg.querySelector('#pause-dialog-title').textContent = `Pause ${job}`;
  dlg.dataset.job = job;
  reason.value = '';
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const submit = dlg.querySelector('[data-dialog-submit]');
    submit.disabled = true;
    try {
      done(await api.pause(job, reason.value.trim()));
      toast(`Paused ${job}`);
      dlg.close();
    } catch (err) {
      toast(`Could not pause ${job}: ${err.message}`, {bad: true});
    } finally {
      submit.disabled = false;
    }
  };
  dlg.querySelector('[data-dialog-cancel]').onclick = () => dlg.close();
  dlg.showModal();
  reason.focus();
}

export function askRun(job) {
  const dlg = document.getElementById('run-dialog');
  const form = dlg.querySelector('form');
  const env = dlg.querySelector('#run-env');
  const error = dlg.querySelector('#run-env-error');
  dlg.querySelector('#run-dialog-title').textContent = `Run ${job}`;
  dlg.dataset.job = job;
  env.value = '';
  error.hidden = true;
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const parsed = parseEnv(env.value);
    if (parsed.error) {
      error.textContent = parsed.error;
      error.hidden = false;
      env.focus();
      return;
    }
    const submit = dlg.querySelector('[data-dialog-submit]');
    submit.disabled = true;
    const req = {job};
    if (Object.keys(parsed.env).length) req.env = parsed.env;
    const started = await startRun(req);
    submit.disabled = false;
    if (started) dlg.close();
  };
  dlg.querySelector('[data-dialog-cancel]').onclick = () => dlg.close();
  dlg.showModal();
  env.focus();
}
