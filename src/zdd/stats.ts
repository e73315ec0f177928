import { networkingMode, taskPortsOf } from '../model/networking';
import { serverName } from '../model/serverIds';
import type { MarathonTask } from '../marathon/types';
import { deploymentBackend, type ZddApp } from './app';

/**
 * Reading marathon-lb's HAProxy stats (`/haproxy?stats;csv`, one CSV per marathon-lb instance,
 * concatenated) to see which old tasks are drained. marathon-lb renders an old colour's tasks that
 * are to go as `disabled` servers (status MAINT); a MAINT server with no current session and nothing
 * queued is drained. A task counts only when it is so on every marathon-lb instance.
 */

/** One CSV row: a proxy (pxname) and one of its servers (svname), with what zdd reads. */
export interface Listener {
  readonly pxname: string;
  readonly svname: string;
  readonly qcur: string;
  readonly scur: string;
  readonly status: string;
}

/**
 * Rows of one marathon-lb's stats CSV (comment lines skipped). Throws on text that is not HAProxy's
 * stats CSV (no `# pxname,svname,…` header naming the columns read, a row short of them, a session
 * count that is no number), as zdd.py's parse did: read as no rows (found by an attack: a page of
 * garbage was "0 app listeners"), zdd grew the new colour at each --max-wait without a check.
 */
export function parseHaproxyStats(csv: string): Listener[] {
  const lines = csv.split(/\r?\n/).filter((l) => l !== '');
  const first = lines[0] ?? '';
  const header = first.replace(/^#\s*/, '').replace(/,+$/, '').split(',');
  const at = (name: string): number => header.indexOf(name);
  const [px, sv, qcur, scur, status] = [at('pxname'), at('svname'), at('qcur'), at('scur'), at('status')];
  if (!first.startsWith('#') || px !== 0 || sv !== 1 || qcur < 0 || scur < 0 || status < 0)
    throw new Error(`not HAProxy's stats CSV (its first line: ${JSON.stringify(first.slice(0, 80))})`);
  const last = Math.max(qcur, scur, status);
  const rows: Listener[] = [];
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    // HAProxy does not quote CSV fields (zdd.py reads them with quotechar "'").
    const f = line.split(',');
    const row = {
      pxname: f[px]!,
      svname: f[sv] ?? '',
      qcur: f[qcur] ?? '',
      scur: f[scur] ?? '',
      status: f[status] ?? '',
    };
    if (f.length <= last || !SESSIONS.test(row.qcur) || !SESSIONS.test(row.scur))
      throw new Error(`not HAProxy's stats CSV (a row: ${JSON.stringify(line.slice(0, 80))})`);
    rows.push(row);
  }
  return rows;
}

/** A current session or queue count as HAProxy prints it (empty where it has none, as for a FRONTEND's queue). */
const SESSIONS = /^\d*$/;

/** The servers of `app`'s deployment backend (not its FRONTEND/BACKEND summary rows). */
export const appListeners = (app: ZddApp, listeners: readonly Listener[]): Listener[] =>
  listeners.filter((l) => l.pxname === deploymentBackend(app) && l.svname !== 'BACKEND' && l.svname !== 'FRONTEND');

const count = (n: number, haproxyCount: number): number => n / haproxyCount;

/** Until marathon-lb serves every task of both colours. */
export const waitingForListeners = (
  newApp: ZddApp,
  oldApp: ZddApp,
  listeners: readonly Listener[],
  haproxyCount: number,
): boolean => count(listeners.length, haproxyCount) !== newApp.instances + oldApp.instances;

/** Until as many servers are UP as the new app is to have (HAPROXY_DEPLOYMENT_TARGET_INSTANCES). */
export const waitingForUpListeners = (target: number, listeners: readonly Listener[], haproxyCount: number): boolean =>
  count(listeners.filter((l) => l.status === 'UP').length, haproxyCount) < target;

const hasPendingRequests = (l: Listener): boolean => Number(l.qcur || 0) > 0 || Number(l.scur || 0) > 0;

const drainingListeners = (listeners: readonly Listener[]): Listener[] => listeners.filter((l) => l.status === 'MAINT');

const drainedListeners = (listeners: readonly Listener[]): Listener[] =>
  drainingListeners(listeners).filter((l) => !hasPendingRequests(l));

/** Until at least one server is drained. */
export const waitingForDrainedListeners = (listeners: readonly Listener[]): boolean =>
  drainedListeners(listeners).length < 1;

/** Host name → IPv4 (marathon-lb's gethostbyname), resolved by the caller beforehand. */
export type HostIps = ReadonlyMap<string, string>;

/**
 * The HAProxy server name marathon-lb gives a task's first port: `<host>_<port>`, or
 * `<host>_<ip>_<port>` when the task's IP differs from its host (IP-per-task, or a host name), with
 * every character HAProxy names cannot hold as `_` (zdd.py replaced only dots).
 */
export function serverNameOf(app: ZddApp, task: MarathonTask, ips: HostIps): string | undefined {
  const host = task.host ?? '';
  const mode = networkingMode(app);
  const ip = mode === 'container' ? task.ipAddresses?.[0]?.ipAddress : ips.get(host);
  // The port the model routes to (taskPortsOf): an IP-per-task app's container port. Its tasks have
  // no host ports, so with task.ports no server ever matched and a deploy waited forever (found by
  // an audit; zdd.py has the same hole).
  const port = taskPortsOf(app, mode)(task)[0];
  if (!ip || port === undefined) return undefined;
  return serverName(host, ip, port);
}

/** Ids of the app's tasks whose server is one of `which(listeners)` on every marathon-lb. */
const tasksWhere =
  (which: (listeners: readonly Listener[]) => Listener[]) =>
  (app: ZddApp, listeners: readonly Listener[], haproxyCount: number, ips: HostIps): string[] => {
    const chosen = which(listeners);
    return app.tasks.flatMap((task) => {
      const name = serverNameOf(app, task, ips);
      return name !== undefined && chosen.filter((l) => l.svname === name).length === haproxyCount ? [task.id] : [];
    });
  };

/** Tasks whose server is MAINT and idle on every marathon-lb: safe to kill. */
export const drainedTaskIds = tasksWhere(drainedListeners);

/** Tasks whose server is MAINT on every marathon-lb, idle or not (after --max-wait). */
export const drainingTaskIds = tasksWhere(drainingListeners);
