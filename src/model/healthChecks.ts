import type { MarathonApp, MarathonHealthCheck, MarathonTask } from '../marathon/types';
import { isPlainWord, isPort } from './haproxyText';
import type { HealthCheck } from './types';

/** A Marathon health check that cannot be printed: the field and the reason. */
export interface HealthCheckError {
  readonly field: string;
  readonly message: string;
}

/**
 * The health check that covers service port `portIndex`: one with an explicit port, or a matching
 * portIndex. Values HAProxy would refuse where they are printed (`inter 0s`, a path with a blank
 * or a line break, a port outside 1..65535, ...) give an error naming the field.
 */
export function healthCheckFor(app: MarathonApp, portIndex: number): HealthCheck | HealthCheckError | null {
  const checks = app.healthChecks ?? [];
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i]!;
    if (check.port || check.portIndex === portIndex) return normalize(check, `healthChecks[${i}]`);
  }
  return null;
}

export const isHealthCheckError = (v: HealthCheck | HealthCheckError | null): v is HealthCheckError =>
  v !== null && 'field' in v;

/**
 * What HAProxy takes after `option httpchk GET` (HAPROXY_BACKEND_HTTP_HEALTHCHECK_OPTIONS): a URI and
 * an optional version, so a path with one blank is served as marathon-lb serves it (`/health HTTP/1.1`);
 * a third word makes HAProxy refuse the whole config.
 */
function isHttpchkTarget(path: string): boolean {
  const words = path.split(/[ \t]+/).filter((w) => w !== '');
  return words.length <= 2 && words.every(isPlainWord);
}

/**
 * The longest check path: HAProxy 2.6 builds `GET <path> HTTP/1.0` in a buffer of tune.bufsize (16 384
 * bytes by default), and a path of 16 300 characters failed to build there ("failed to build HTTP
 * request" at each check: the server DOWN for good, while Marathon called the task healthy; an audit).
 */
const MAX_PATH_CHARS = 16_000;

/** HAProxy keeps times in milliseconds in a signed 32-bit integer. */
const MAX_SECONDS = 2147483;
/** HAProxy's largest `fall` count (an int). */
const MAX_FALL = 2 ** 31 - 1;
const seconds = (v: unknown, min: number): boolean =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= MAX_SECONDS;

// Marathon fills these defaults itself; a hand-written apps file may leave them out.
function normalize(c: MarathonHealthCheck, at: string): HealthCheck | HealthCheckError {
  const fail = (field: string, message: string): HealthCheckError => ({ field: `${at}.${field}`, message });
  const protocol = c.protocol ?? 'HTTP';
  if (typeof protocol !== 'string' || !isPlainWord(protocol))
    return fail('protocol', 'must be a word such as HTTP, TCP or MESOS_HTTP');
  const path = c.path ?? '/';
  if (typeof path === 'string' && path.length > MAX_PATH_CHARS)
    return fail(
      'path',
      `is ${path.length} characters long, more than ${MAX_PATH_CHARS}: HAProxy builds its check request in one buffer (tune.bufsize, 16 KiB), and with a longer path it cannot, so the task's server would stay DOWN`,
    );
  if (typeof path !== 'string' || !isHttpchkTarget(path))
    return fail(
      'path',
      'must be a URI, or a URI and an HTTP version after a blank (option httpchk GET <uri> <version>), without quotes, backslashes, # or control characters',
    );
  const portIndex = c.portIndex ?? null;
  if (portIndex !== null && !(Number.isInteger(portIndex) && portIndex >= 0))
    return fail('portIndex', 'must be a non-negative integer');
  const port = c.port ? c.port : null;
  if (port !== null && !isPort(port)) return fail('port', 'must be an integer in 1..65535');
  const timeoutSeconds = c.timeoutSeconds ?? 20;
  if (!seconds(timeoutSeconds, 0)) return fail('timeoutSeconds', `must be an integer in 0..${MAX_SECONDS}`);
  const intervalSeconds = c.intervalSeconds ?? 60;
  if (!seconds(intervalSeconds, 1)) return fail('intervalSeconds', `must be an integer in 1..${MAX_SECONDS}`);
  // Marathon takes any count here; no built-in template prints the grace period (a template may).
  const gracePeriodSeconds = c.gracePeriodSeconds ?? 300;
  if (!(Number.isSafeInteger(gracePeriodSeconds) && gracePeriodSeconds >= 0))
    return fail('gracePeriodSeconds', 'must be a non-negative integer');
  // Printed as `fall <n + 1>`, an int to HAProxy.
  const maxConsecutiveFailures = c.maxConsecutiveFailures ?? 3;
  if (!(Number.isInteger(maxConsecutiveFailures) && maxConsecutiveFailures >= 0 && maxConsecutiveFailures < MAX_FALL))
    return fail('maxConsecutiveFailures', `must be an integer in 0..${MAX_FALL - 1}`);
  return {
    protocol,
    path,
    portIndex,
    port,
    timeoutSeconds,
    intervalSeconds,
    gracePeriodSeconds,
    maxConsecutiveFailures,
  };
}

/** Task states that never receive traffic; TASK_LOST and TASK_UNREACHABLE are kept, optimistically, as upstream. */
export const EXCLUDED_TASK_STATES: ReadonlySet<string> = new Set([
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
]);

/**
 * With `--health-check`, whether a task of an app with health checks may receive traffic:
 * alive when any result is alive; without results, the last verdict remembered for the task.
 * Returns the verdict and whether it was observed now (to be remembered by the caller).
 */
export function healthVerdict(
  task: MarathonTask,
  remembered: ReadonlyMap<string, boolean>,
): { alive: boolean; observed: boolean } {
  if (task.healthCheckResults === undefined) return { alive: remembered.get(task.id) ?? false, observed: false };
  return { alive: task.healthCheckResults.some((r) => r.alive === true), observed: true };
}
