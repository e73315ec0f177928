import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRegularFileBounded } from '../boundedRead';
import { err, ok, type Result } from '../result';
import { pidExists, procStat } from './stopSignals';

/**
 * One controller per HAProxy config directory. Two on one directory (two sidecars on one volume)
 * each took the other's HAProxy for one an earlier controller had left: they reloaded it under each
 * other, the second overwrote the first's pid file, and stopping either stopped HAProxy for both.
 * The lock is a file holding its controller's pid and that process's start time, created
 * exclusively; one whose process is gone (a controller killed with -9) is taken over, also when its
 * pid has been given to another process since (the start time differs). Returns what releases it.
 */
export function lockConfigDir(dir: string, pid = process.pid): Result<HeldLock> {
  return lockWith(
    path.join(dir, '.marathon-lb.lock'),
    `lock ${dir}`,
    (other) =>
      `another controller (pid ${other}) manages the HAProxy of ${dir}: stop it, or give this one a --haproxy-config in a directory of its own`,
    pid,
  );
}

/**
 * One controller per HAProxy master socket and pid file too, wherever they are: two controllers with
 * config directories of their own but the default `--haproxy-master-socket` each took the other's
 * HAProxy for a leftover, stopped it, and two masters then split the traffic. The lock is
 * `<file>.marathon-lb.lock` beside it. `flag` names the option that moves it.
 */
export function lockRuntimeFile(file: string, flag: string, pid = process.pid): Result<HeldLock> {
  return lockWith(
    `${file}.marathon-lb.lock`,
    `lock ${file}`,
    (other) =>
      `another controller (pid ${other}) drives the HAProxy of ${file}: stop it, or give this one a ${flag} of its own`,
    pid,
  );
}

/** A lock this controller took. */
export interface HeldLock {
  /** Removes it, unless another controller holds it since. */
  release(): void;
  /**
   * Writes it again when it is gone: its directory removed and made again while the controller ran
   * let a second controller take HAProxy from under it (an audit). An error when it cannot be written,
   * or another controller holds it now; 'written' when it was written again.
   */
  keep(): Result<'held' | 'written'>;
}

function lockWith(file: string, what: string, busy: (other: number) => string, pid: number): Result<HeldLock> {
  const started = startTime(pid);
  const text = started === undefined ? `${pid}\n` : `${pid} ${started}\n`;
  const lock: HeldLock = {
    release: () => {
      if (holder(file)?.pid === pid) fs.rmSync(file, { force: true });
    },
    keep: () => {
      const h = holder(file);
      if (h?.pid === pid) return ok('held');
      if (h !== undefined && holds(h)) return err(busy(h.pid));
      try {
        writeNew(file, text);
        return ok('written');
      } catch (e) {
        return err(`cannot ${what} again for this controller (${file}): ${(e as NodeJS.ErrnoException).code}`);
      }
    },
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeNew(file, text);
      return ok(lock);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        return err(`cannot ${what} for this controller (${file}): ${(e as NodeJS.ErrnoException).code}`);
    }
    const other = holder(file);
    if (other !== undefined && other.pid !== pid && holds(other)) return err(busy(other.pid));
    fs.rmSync(file, { force: true }); // left by a controller that is gone (or by this process)
  }
  return err(`cannot ${what} for this controller: ${file} keeps coming back`);
}

/** Creates `file` with `text`; one created but not written (a full disk) is removed, not left empty. */
function writeNew(file: string, text: string): void {
  const fd = fs.openSync(file, 'wx');
  try {
    fs.writeFileSync(fd, text);
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

interface Holder {
  readonly pid: number;
  /** Its start time as the lock recorded it (absent in locks of earlier versions). */
  readonly started: string | undefined;
}

function holder(file: string): Holder | undefined {
  try {
    const [pidText, started] = readRegularFileBounded(file, 4096).toString().trim().split(/\s+/);
    const pid = Number(pidText);
    return Number.isInteger(pid) && pid > 0 ? { pid, started } : undefined;
  } catch {
    return undefined;
  }
}

/** The lock's process still runs: its pid exists and, where the lock says when it started, started then. */
function holds(h: Holder): boolean {
  if (!pidExists(h.pid)) return false;
  if (h.started === undefined) return true;
  const now = startTime(h.pid);
  return now === undefined || now === h.started;
}

/**
 * When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined
 * without /proc. A pid and its start time name one process: a pid alone may be another's since.
 */
export function startTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}
