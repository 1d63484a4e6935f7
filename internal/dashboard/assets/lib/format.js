// Words and numbers the pages show: statuses, durations, times in a zone,
// a run's outcome in plain words, its timeline. Pure functions: the time
// "now" is always passed in.

export const STATUSES = ['queued', 'starting', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'];

const STATUS = {
  queued: {label: 'Queued', tone: 'idle'},
  starting: {label: 'Starting', tone: 'start'},
  running: {label: 'Running', tone: 'live'},
  succeeded: {label: 'Succeeded', tone: 'ok'},
  failed: {label: 'Failed', tone: 'bad'},
  timed_out: {label: 'Timed out', tone: 'warn'},
  cancelled: {label: 'Cancelled', tone: 'idle'},
};

export function statusLabel(s) {
  return (STATUS[s] || {label: s}).label;
}

// tone is the colour family of a status: ok, bad, warn, live, start or idle.
export function tone(s) {
  return (STATUS[s] || {tone: 'idle'}).tone;
}

export function isTerminal(s) {
  return s === 'succeeded' || s === 'failed' || s === 'timed_out' || s === 'cancelled';
}

// neverStarted tells a run that ended before its task ran.
export function neverStarted(r) {
  return isTerminal(r.status) && !r.startedAt;
}

const ms = (t) => (t ? new Date(t).getTime() : NaN);

// formatDuration writes milliseconds the way people say them: 340 ms,
// 4.2 s, 38 s, 4m 05s, 2h 14m, 3d 4h.
export function formatDuration(d) {
  if (d === null || d === undefined || !Number.isFinite(d) || d < 0) return '—';
  if (d < 10) return `${Number(d.toFixed(1))} ms`;
  if (d < 1000) return `${Math.round(d)} ms`;
  const s = d / 1000;
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)} s`;
  if (s < 60) return `${Math.floor(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return `${hr}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

// runDuration is how long a run's task ran: to its stop, or to now while it
// runs; null when it never started.
export function runDuration(r, now) {
  if (!r.startedAt) return null;
  const end = r.stoppedAt ? ms(r.stoppedAt) : now.getTime();
  return Math.max(0, end - ms(r.startedAt));
}

// relative writes a time as an offset from now: "just now", "12 s ago",
// "in 5 min", "3 h ago", "2 days ago".
export function relative(t, now) {
  const d = ms(t) - now.getTime();
  const a = Math.abs(d);
  const fmt = (n, unit) => (d < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`);
  if (a < 5000) return d < 0 ? 'just now' : 'in a moment';
  if (a < 60e3) return fmt(Math.floor(a / 1e3), 's');
  if (a < 3600e3) return fmt(Math.floor(a / 60e3), 'min');
  if (a < 48 * 3600e3) {
    const hr = Math.floor(a / 3600e3);
    const min = Math.floor((a % 3600e3) / 60e3);
    return d < 0 ? `${hr} h ago` : `in ${hr} h ${min} min`;
  }
  return fmt(Math.floor(a / 86400e3), 'days');
}

// inZone writes a time in an IANA zone, with the zone's abbreviation:
// "Mon 23 Nov, 03:00 CET". zone undefined is the browser's own.
export function inZone(t, zone, {seconds = false, weekday = true, date = true} = {}) {
  const opts = {hour: '2-digit', minute: '2-digit', hourCycle: 'h23'};
  if (seconds) opts.second = '2-digit';
  if (date) Object.assign(opts, {day: 'numeric', month: 'short'});
  if (date && weekday) opts.weekday = 'short';
  if (zone) opts.timeZone = zone;
  try {
    return `${new Intl.DateTimeFormat('en-GB', opts).format(new Date(t))} ${zoneName(t, zone)}`;
  } catch (_) {
    return new Date(t).toISOString();
  }
}

// zoneName is the abbreviation people use for a zone at a time (CET, EST,
// BST), which no one locale knows for every zone; else GMT+1 and the like.
export function zoneName(t, zone) {
  let fallback = '';
  for (const locale of ['en-US', 'en-GB']) {
    const part = new Intl.DateTimeFormat(locale, {timeZone: zone, timeZoneName: 'short'})
      .formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName');
    const name = part ? part.value : '';
    if (name && !/^GMT[+-]/.test(name)) return name === 'GMT' && zone === 'UTC' ? 'UTC' : name;
    fallback = fallback || name;
  }
  return fallback || zone || '';
}

// clock writes a time of day in the browser's zone: 18:40:12.
export function clock(t) {
  return new Intl.DateTimeFormat('en-GB', {hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'}).format(new Date(t));
}

// stamp writes a date and time in the browser's zone: "22 Nov, 18:40:12".
export function stamp(t) {
  return new Intl.DateTimeFormat('en-GB', {day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'}).format(new Date(t));
}

export function localZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

// triggerKind is the kind of one of the API's trigger words
// ("schedule cron(...) Europe/Berlin", "s3 incoming/*.jpg", "sqs orders", "invoke").
export function triggerWord(w) {
  const i = w.indexOf(' ');
  return i < 0 ? {kind: w, rest: ''} : {kind: w.slice(0, i), rest: w.slice(i + 1)};
}

// describeTrigger says what started a run.
export function describeTrigger(t) {
  if (!t) return '—';
  switch (t.kind) {
    case 'schedule':
      return t.scheduledTime ? `schedule, due ${stamp(t.scheduledTime)}` : 'schedule';
    case 's3':
      return `upload s3://${t.bucket || ''}/${t.key || ''}`;
    case 'sqs':
      return `SQS message ${t.messageId || ''}${t.queue ? ' on ' + t.queue : ''}`.trim();
    case 'invoke':
      return t.caller ? `one-off (${t.caller})` : 'one-off';
    case 'after':
      return `after ${t.upstreamJob || 'a run'}${t.upstreamStatus ? ' ' + t.upstreamStatus.replace('_', ' ') : ''}`;
  }
  return t.kind || '—';
}

// shortTrigger is the trigger in one word for tables.
export function shortTrigger(t) {
  if (!t) return '—';
  return {schedule: 'schedule', s3: 'S3 upload', sqs: 'SQS message', invoke: 'one-off', after: 'after a run'}[t.kind] || t.kind;
}

function sameAsExit(reason, code) {
  return code !== null && code !== undefined && /^exited with (exit )?code \d+\.?$/i.test((reason || '').trim());
}

function sentence(s) {
  s = (s || '').trim();
  if (!s) return '';
  s = s[0].toUpperCase() + s.slice(1);
  return /[.!?]$/.test(s) ? s : s + '.';
}

// outcome tells what happened to a run in plain words: {title, detail, hint, tone}.
export function outcome(r, now) {
  const code = r.exitCode;
  const reason = sentence(r.reason);
  switch (r.status) {
    case 'queued':
      if (r.notBefore) {
        return {tone: 'idle', title: `Waiting to retry at ${clock(r.notBefore)}`, detail: reason,
          hint: 'This attempt starts once the back-off of the job\'s retries policy is over.'};
      }
      return {tone: 'idle', title: 'Queued: waiting to start', detail: reason,
        hint: 'It starts as soon as the job\'s concurrency allows.'};
    case 'starting':
      return {tone: 'start', title: 'Starting', detail: 'The task was asked for and is not running yet.',
        hint: 'On AWS this is where the image is pulled and secrets are read.'};
    case 'running':
      return {tone: 'live', title: `Running for ${formatDuration(runDuration(r, now))}`, detail: '', hint: ''};
    case 'succeeded':
      return {tone: 'ok', title: `Succeeded${code !== null && code !== undefined ? ` with exit code ${code}` : ''}`,
        detail: sameAsExit(r.reason, code) ? '' : reason, hint: ''};
    case 'timed_out':
      return {tone: 'warn', title: 'Timed out', detail: sentence(withoutPrefix(r.reason, 'timed out')),
        hint: 'The run went past the job\'s timeout and was stopped. If it needs longer, raise timeout in its job.yaml.'};
    case 'cancelled':
      return {tone: 'idle', title: 'Cancelled', detail: reason, hint: ''};
    case 'failed':
      switch (r.cause) {
        case 'exit':
          return {tone: 'bad', title: `Failed: the app exited with code ${code}`,
            detail: sameAsExit(r.reason, code) ? '' : reason,
            hint: 'The job itself reported the failure: its output below usually says why.'};
        case 'start':
          return {tone: 'bad', title: 'Never started', detail: sentence(withoutPrefix(r.reason, 'never started')) || 'The task could not be started.',
            hint: 'Nothing of the job ran. Check what the task needs before it runs: its image, its secrets, its command, the capacity it asks for.'};
        case 'interrupted':
          return {tone: 'bad', title: 'Interrupted', detail: sentence(withoutPrefix(r.reason, 'interrupted')),
            hint: 'The infrastructure stopped the task (Spot capacity taken back, or the engine went away); the job\'s retries policy decides whether it runs again.'};
        case 'lost':
          return {tone: 'bad', title: 'Lost', detail: reason,
            hint: 'Longshore lost track of the task and could not find out how it ended.'};
      }
      return {tone: 'bad', title: 'Failed', detail: reason, hint: ''};
  }
  return {tone: 'idle', title: statusLabel(r.status), detail: reason, hint: ''};
}

// withoutPrefix drops a leading "prefix:" that the title already says.
function withoutPrefix(s, prefix) {
  s = (s || '').trim();
  return s.toLowerCase().startsWith(prefix + ':') ? s.slice(prefix.length + 1).trim() : s;
}

// timeline lists a run's four steps, each {key, label, at, note, state}
// with state done, current, failed, warn, idle, skipped or pending.
export function timeline(r, now) {
  const steps = [
    {key: 'queued', label: 'Queued', at: r.createdAt, note: '', state: 'pending'},
    {key: 'starting', label: 'Starting', at: null, note: '', state: 'pending'},
    {key: 'running', label: 'Running', at: r.startedAt, note: '', state: 'pending'},
    {key: 'stopped', label: 'Stopped', at: r.stoppedAt, note: '', state: 'pending'},
  ];
  const [queued, starting, running, stopped] = steps;
  queued.state = 'done';
  if (r.startedAt) {
    starting.state = 'done';
    starting.note = `started ${formatDuration(ms(r.startedAt) - ms(r.createdAt))} after it was queued`;
    running.state = 'done';
  }
  switch (r.status) {
    case 'queued':
      queued.state = 'current';
      queued.note = r.notBefore ? `until ${clock(r.notBefore)}` : 'waiting';
      return steps;
    case 'starting':
      starting.state = 'current';
      starting.note = `for ${formatDuration(now.getTime() - ms(r.createdAt))}`;
      return steps;
    case 'running':
      running.state = 'current';
      running.note = `for ${formatDuration(runDuration(r, now))}`;
      return steps;
  }
  stopped.label = statusLabel(r.status);
  stopped.state = {ok: 'done', bad: 'failed', warn: 'warn'}[tone(r.status)] || 'idle';
  if (r.startedAt) {
    running.note = `ran ${formatDuration(runDuration(r, now))}`;
  } else if (r.cause === 'start') {
    starting.state = 'failed';
    starting.note = 'never started';
    running.state = 'skipped';
    stopped.state = 'failed';
  } else {
    starting.state = 'skipped';
    running.state = 'skipped';
    running.note = 'did not run';
  }
  if (r.exitCode !== null && r.exitCode !== undefined) stopped.note = `exit code ${r.exitCode}`;
  return steps;
}

// parseEnv reads NAME=value lines: {env, error}.
export function parseEnv(text) {
  const env = {};
  const lines = (text || '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq).trim();
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      return {env: null, error: `Line ${i + 1}: write NAME=value (a name of letters, digits and _), not "${line}".`};
    }
    env[name] = line.slice(eq + 1);
  }
  return {env, error: ''};
}

// niceMax rounds a duration in ms up to a value that makes a readable axis.
export function niceMax(d) {
  if (!(d > 0)) return 10;
  const steps = [5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3,
    7200e3, 4 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3];
  for (const s of steps) if (d <= s) return s;
  return Math.ceil(d / 86400e3) * 86400e3;
}

// formatCost writes a cost in US dollars as the CLI does: $0.0012,
// <$0.0001 below a hundredth of a cent, $0 for nothing.
export function formatCost(usd) {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return '—';
  if (usd === 0) return '$0';
  if (usd < 0.00005) return '<$0.0001';
  return `$${usd.toFixed(4)}`;
}

// costLabel says what a cost is: on Fargate, or for a local run what it
// would cost on Fargate; at which Region's list prices when known.
export function costLabel(basis, region) {
  const where = region ? `, ${region} list prices` : ', list prices';
  return basis === 'fargate-estimate' ? `would cost on Fargate${where}` : `on Fargate${where}`;
}
