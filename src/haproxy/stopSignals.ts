/**
 * Ending an HAProxy master: SIGUSR1 (soft stop: workers finish their connections), then SIGTERM,
 * then SIGKILL (its workers too), each followed by a bounded wait for the process to be gone.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { err, ok, type Result } from '../result';
import type { Clock } from './clock';

export interface StopWaits {
  readonly soft: number;
  readonly term: number;
  readonly kill: number;
}

/** How HAProxy ended (the signal it heeded), or why it could not be ended. */
export type StopResult = Result<'not-running' | 'soft' | 'term' | 'kill'>;

export async function stopEscalating(
  pid: number,
  alive: () => boolean,
  waits: StopWaits,
  clock: Clock,
  pollMs: number,
): Promise<StopResult> {
  const waitGone = async (ms: number, each?: () => void): Promise<boolean> => {
    const deadline = clock.now() + ms;
    for (;;) {
      if (!alive()) return true;
      if (clock.now() >= deadline) return false;
      each?.();
      await clock.sleep(Math.min(pollMs, Math.max(1, deadline - clock.now())));
    }
  };
  const endStopped = (): void => {
    for (const child of childrenOf(pid)) if (isStopped(child)) killQuietly(child);
  };
  const steps: ReadonlyArray<readonly [NodeJS.Signals, number, 'soft' | 'term' | 'kill']> = [
    ['SIGUSR1', waits.soft, 'soft'],
    ['SIGTERM', waits.term, 'term'],
    ['SIGKILL', waits.kill, 'kill'],
  ];
  for (const [signal, ms, how] of steps) {
    // Its workers first, while they are still its children: a master killed leaves them running, and
    // one stopped (SIGSTOP) or wedged never sees it die and keeps the ports for good. A stopped one
    // finishes no connection either: it only held the soft stop, and the ports, for its whole wait
    // (an audit: 13 s without HAProxy when an adopted master was replaced).
    if (signal === 'SIGKILL') for (const child of childrenOf(pid)) killQuietly(child);
    else if (signal === 'SIGUSR1') endStopped();
    try {
      process.kill(pid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') break;
      return err(`cannot signal HAProxy master ${pid}: ${(e as NodeJS.ErrnoException).code}`);
    }
    // During the soft wait too: a worker stopped a moment after it began (a SIGSTOP not yet taken
    // when the stop began: CI) held the soft stop for its whole wait.
    if (await waitGone(ms, signal === 'SIGUSR1' ? endStopped : undefined)) return ok(how);
  }
  if (await waitGone(0)) return ok('kill');
  return err(`HAProxy master ${pid} is still running after SIGKILL`);
}

/** The process is there and not a zombie (an adopted master ends up a child of ours when we are pid 1). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = procStat(pid)?.[0];
  return state === undefined || !/^[ZX]$/.test(state); // no /proc: kill(0) is all we know
}

/**
 * The fields of "pid (comm) state ppid …" in /proc/<pid>/stat from `state` on (field 3 at index 0):
 * comm may hold spaces and parentheses, so they are read after its last ')'.
 */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** statFields of a process, or undefined without /proc or the process. */
export function procStat(pid: number): string[] | undefined {
  try {
    return statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live HAProxy process of `configPath` (its command line reads `-f <configPath>`), from /proc. */
export function runsConfig(pid: number, configPath: string): boolean {
  if (!pidExists(pid)) return false;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a, i) => a === '-f' && argv[i + 1] === configPath);
  } catch {
    return false;
  }
}

/** Processes whose parent is `pid`, from /proc (none without it). */
function childrenOf(pid: number): number[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return names.filter((n) => /^\d+$/.test(n) && procStat(Number(n))?.[1] === String(pid)).map(Number);
}

/** Stopped by a signal (SIGSTOP) or by a tracer: it runs nothing until continued. */
const isStopped = (pid: number): boolean => /^[tT]$/.test(procStat(pid)?.[0] ?? '');

/** SIGKILL to `pid`; nothing when it is gone already. */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

/**
 * SIGKILL to the process group a child spawned with `detached: true` leads: it and whatever it
 * started (a wrapper script's children, a daemon holding its output). The child alone when the group
 * cannot be signalled; nothing when all are gone.
 */
export function killProcessGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
