// The runs API of the engine that serves this page (same origin). Every
// call reports whether the engine answered, so the page can say when it
// stopped answering.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const listeners = new Set();

// onConnection calls fn(true) when the engine answers and fn(false, why)
// when it does not; why is what the server in between said, or ''.
export function onConnection(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function report(up, why = '') {
  for (const fn of listeners) fn(up, why);
}

async function call(method, path, body, signal) {
  let resp;
  try {
    resp = await fetch(path, {
      method,
      signal,
      headers: body === undefined ? {} : {'Content-Type': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    report(false);
    throw new ApiError(0, 'The engine does not answer: is longshore local still running?');
  }
  // A proxy in front of the engine answers these when the engine is gone;
  // the dashboard of a deployment (longshore dashboard --aws) says why.
  if (resp.status === 502 || resp.status === 503 || resp.status === 504) {
    let why = '';
    try {
      const e = await resp.json();
      if (e && typeof e.error === 'string') why = e.error;
    } catch (_) { /* not JSON: a proxy's own page */ }
    report(false, why);
    throw new ApiError(0, why || 'The engine does not answer: is longshore local still running?');
  }
  report(true);
  if (!resp.ok) {
    let message = `${method} ${path}: HTTP ${resp.status}`;
    try {
      const e = await resp.json();
      if (e && e.error) message = e.error;
    } catch (_) { /* not JSON: keep the status line */ }
    throw new ApiError(resp.status, message);
  }
  return resp;
}

async function json(method, path, body, signal) {
  return (await call(method, path, body, signal)).json();
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, raw] of Object.entries(params)) {
    const v = Array.isArray(raw) ? raw.join(',') : raw;
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

// jobs lists the catalog, each job with its schedules and newest run.
export async function jobs(signal) {
  return (await json('GET', '/v1/jobs', undefined, signal)).jobs || [];
}

// runs lists runs newest first: {runs, next}.
export async function runs({job, status, limit, cursor} = {}, signal) {
  const out = await json('GET', '/v1/runs' + query({job, status, limit, cursor}), undefined, signal);
  return {runs: out.runs || [], next: out.next || ''};
}

export function getRun(id, signal) {
  return json('GET', '/v1/runs/' + encodeURIComponent(id), undefined, signal);
}

// start starts a one-off run: {job, env, command}.
export function start(req) {
  return json('POST', '/v1/runs', req);
}

// pause pauses a job: {job, paused, pausedReason, pausedSince}.
export function pause(job, reason) {
  return json('POST', '/v1/jobs/' + encodeURIComponent(job) + '/pause', reason ? {reason} : {});
}

export function resume(job) {
  return json('POST', '/v1/jobs/' + encodeURIComponent(job) + '/resume');
}

export function stop(id) {
  return json('POST', '/v1/runs/' + encodeURIComponent(id) + '/stop');
}

// logs reads a run's output of one stream, either on from offset or the
// last tail bytes: {text, start, next, done, combined}. combined: stdout
// holds everything the run wrote and stderr stays empty (a deployment on
// AWS keeps both in one log stream).
export async function logs(id, stream, {offset, tail} = {}, signal) {
  const resp = await call('GET', '/v1/runs/' + encodeURIComponent(id) + '/logs' + query({stream, offset, tail}), undefined, signal);
  const text = await resp.text();
  const next = Number(resp.headers.get('X-Longshore-Log-Offset'));
  const startAt = Number(resp.headers.get('X-Longshore-Log-Start') ?? offset ?? 0);
  return {text, start: Number.isFinite(startAt) ? startAt : 0, next, done: resp.headers.get('X-Longshore-Run-Done') === 'true',
    combined: resp.headers.get('X-Longshore-Log-Streams') === 'combined'};
}
