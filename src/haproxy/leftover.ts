/**
 * HAProxy masters left by an earlier controller (one that was SIGKILLed, or left HAProxy running on
 * purpose): found through the pid file, the master socket and, when both are gone, /proc. A pid is
 * only ever taken for ours when /proc says it is an HAProxy master started with our master socket
 * or our config file, so a stale pid file naming an unrelated process never gets it signalled.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { statFields } from './stopSignals';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** From /proc/<pid>/stat: R, S, D, Z (zombie), … */
  readonly state: string;
  readonly argv: readonly string[];
  /** Where /proc/<pid>/exe points (the binary file itself, symlinks resolved), when readable. */
  readonly exe?: string | undefined;
}

/** Reads processes; /proc on Linux, a fake in tests. */
export interface ProcessTable {
  pids(): Promise<readonly number[]>;
  info(pid: number): Promise<ProcessInfo | undefined>;
  /** The environment a process was started with, when readable. */
  environ(pid: number): Promise<Readonly<Record<string, string>> | undefined>;
}

export const procTable: ProcessTable = {
  async pids() {
    const names = await fs.readdir('/proc').catch(() => [] as string[]);
    return names.filter((n) => /^\d+$/.test(n)).map(Number);
  },
  async info(pid) {
    try {
      const [stat, cmdline, exe] = await Promise.all([
        fs.readFile(`/proc/${pid}/stat`, 'utf8'),
        fs.readFile(`/proc/${pid}/cmdline`, 'utf8'),
        fs.readlink(`/proc/${pid}/exe`).catch(() => undefined), // another user's process: not readable
      ]);
      const rest = statFields(stat);
      return {
        pid,
        state: rest[0] ?? '?',
        ppid: Number(rest[1]),
        argv: cmdline.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1),
        exe,
      };
    } catch {
      return undefined;
    }
  },
  async environ(pid) {
    const text = await fs.readFile(`/proc/${pid}/environ`, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const env: Record<string, string> = {};
    for (const entry of text.split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return env;
  },
};

export interface HaproxyIdentity {
  readonly configPath: string;
  readonly masterSocketPath: string;
  readonly pidFile: string;
  /** The HAProxy binary this controller runs (--haproxy-bin, as it is given): any name goes. */
  readonly binary?: string | undefined;
}

/** A process of /proc as isOurHaproxy judges it: its command line and, when readable, its binary. */
export type ProcessImage = Pick<ProcessInfo, 'argv' | 'exe'>;

/**
 * An HAProxy binary by its name, the file it runs (a symlink or a copy under another name, e.g.
 * `--haproxy-bin /opt/lb/proxy`, still runs a file named haproxy), or our own --haproxy-bin.
 */
function isHaproxyBinary(p: ProcessImage, binary: string | undefined): boolean {
  const argv0 = p.argv[0];
  if (argv0 === undefined) return false;
  return (
    /haproxy/i.test(path.basename(argv0)) ||
    (p.exe !== undefined && /haproxy/i.test(path.basename(p.exe))) ||
    (binary !== undefined && argv0 === binary)
  );
}

const isHaproxyMasterWorker = (p: ProcessImage, binary: string | undefined): boolean =>
  isHaproxyBinary(p, binary) && p.argv.some((a) => a === '-W' || a === '-Ws');
const argsAfter = (argv: readonly string[], flag: string): string[] =>
  argv.flatMap((a, i) => (a === flag && i + 1 < argv.length ? [argv[i + 1] as string] : []));
const usesConfig = (argv: readonly string[], id: HaproxyIdentity): boolean =>
  argsAfter(argv, '-f').some((f) => path.resolve(f) === path.resolve(id.configPath));

/**
 * An HAProxy in master-worker mode started as a controller starts it: with our master socket, or
 * with our config file and our pid file. (An HAProxy that only shares the config file, e.g. the
 * distribution's own service on /etc/haproxy/haproxy.cfg, is someone else's: never signalled.)
 */
export function isOurHaproxy(p: ProcessImage, id: HaproxyIdentity): boolean {
  if (!isHaproxyMasterWorker(p, id.binary)) return false;
  return usesSocket(p.argv, id) || (usesConfig(p.argv, id) && usesPidFile(p.argv, id));
}
const usesSocket = (argv: readonly string[], id: HaproxyIdentity): boolean =>
  argsAfter(argv, '-S').some((s) => s === id.masterSocketPath || s.startsWith(`${id.masterSocketPath},`));
const usesPidFile = (argv: readonly string[], id: HaproxyIdentity): boolean =>
  argsAfter(argv, '-p').some((p) => path.resolve(p) === path.resolve(id.pidFile));

/**
 * Whether an HAProxy known by our config and pid file only (not our master socket) was started by a
 * controller: every controller starts HAProxy with MARATHON_LB_HAPROXY_CONFIG set. The distribution's
 * service started on the same files is not, and is never taken for a leftover (it was stopped, and
 * systemd started it again beside ours).
 */
async function startedByController(table: ProcessTable, p: ProcessInfo, id: HaproxyIdentity): Promise<boolean> {
  if (usesSocket(p.argv, id)) return true;
  const env = await table.environ(p.pid);
  return env === undefined || env['MARATHON_LB_HAPROXY_CONFIG'] !== undefined;
}

/** Not a zombie and still there. */
export async function isRunning(table: ProcessTable, pid: number): Promise<boolean> {
  const info = await table.info(pid);
  return info !== undefined && info.state !== 'Z' && info.state !== 'X';
}

/**
 * Our masters still running: the pid-file pid and the socket's master (each only if /proc confirms
 * it is ours), plus masters found in /proc (ours, whose parent is not one of ours — workers share
 * their master's command line). Sorted, without duplicates; `self` (this controller's own child)
 * is never listed.
 */
export async function findMasters(
  table: ProcessTable,
  id: HaproxyIdentity,
  hints: { readonly pidFilePid?: number; readonly socketMasterPid?: number; readonly self?: number },
): Promise<{
  readonly masters: readonly number[];
  readonly rejected: readonly string[];
  /** HAProxy masters on our config file that no controller started (the distribution's service). */
  readonly strangers: readonly string[];
}> {
  const ours = new Map<number, ProcessInfo>();
  const others = new Map<number, ProcessInfo>();
  for (const pid of await table.pids()) {
    const info = await table.info(pid);
    if (!info || info.state === 'Z') continue;
    if (isOurHaproxy(info, id) && (await startedByController(table, info, id))) ours.set(pid, info);
    else if (isHaproxyMasterWorker(info, id.binary) && usesConfig(info.argv, id)) others.set(pid, info);
  }
  const strangers = [...others.values()]
    .filter((p) => !others.has(p.ppid)) // not a worker of one
    .map((p) => `HAProxy ${p.pid} (${p.argv.join(' ')})`);
  const rejected: string[] = [];
  for (const [what, pid] of [
    ['pid file', hints.pidFilePid],
    ['master socket', hints.socketMasterPid],
  ] as const) {
    if (pid === undefined || ours.has(pid)) continue;
    const info = await table.info(pid);
    if (info === undefined) continue;
    rejected.push(
      `${what} names pid ${pid}, which is not an HAProxy master of this controller (${info.argv.slice(0, 3).join(' ') || 'no command line'}): left alone`,
    );
  }
  const masters = [...ours.values()].filter((p) => !ours.has(p.ppid) && p.pid !== hints.self).map((p) => p.pid);
  return { masters: masters.sort((a, b) => a - b), rejected, strangers };
}

/** Children (workers) of a process, to end them too when their master is killed. */
export async function childrenOf(table: ProcessTable, pid: number): Promise<number[]> {
  const kids: number[] = [];
  for (const p of await table.pids()) {
    const info = await table.info(p);
    if (info?.ppid === pid) kids.push(p);
  }
  return kids;
}

/** Variables HAProxy sets in its own environment (master-worker bookkeeping): not ours to compare. */
const HAPROXY_OWN =
  /^HAPROXY_(STARTUP_VERSION|LOCALPEER|CFGFILES|MWORKER\w*|CLI|MASTER_CLI|PROCESSES|SERVER_\w+|HTTPCLIENT\w*)$/;

/** Names whose values differ between HAProxy's environment and the one we would start it with. */
export function environmentDifference(
  running: Readonly<Record<string, string>>,
  wanted: Readonly<Record<string, string | undefined>>,
): string[] {
  const names = new Set(
    [...Object.keys(running), ...Object.keys(wanted)].filter((n) => !HAPROXY_OWN.test(n) && n !== '_'),
  );
  return [...names].filter((n) => running[n] !== wanted[n]).sort();
}
