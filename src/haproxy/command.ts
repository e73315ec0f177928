/**
 * --command mode: HAProxy is run by someone else (systemd, runit, another container) and reloaded by
 * the operator's command, as marathon-lb did (reloadConfig in marathon_lb.py). The controller
 * writes and validates the files, then runs the command through /bin/sh. A try succeeds when the
 * command exits 0 and a new HAProxy process appears (marathon-lb's `pidof haproxy` before/after);
 * when no HAProxy process is visible at all (another pid namespace) the exit status is all there is
 * to go by. A failed try is retried every --reload-interval up to --max-reload-retries times (-1:
 * without limit, 0: not retried). No runtime API, no start, no stop: every change is a reload.
 */
import { spawn } from 'node:child_process';
import type { RuntimeOp } from '../reconcile/plan';
import type { DesiredState } from '../reconcile/applyPort';
import type { Clock } from './clock';
import { procTable, type ProcessTable } from './leftover';
import { killProcessGroup } from './stopSignals';
import { type CommandChannel, type HaproxyLogger } from './masterSocket';
import { err, ok, type Result } from '../result';
import { withRetries, type HaproxyTarget, type LoadResult, type RetryPolicy } from './target';

export interface CommandRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

export interface CommandHaproxyOptions {
  readonly command: string;
  readonly retry: RetryPolicy;
  readonly clock: Clock;
  readonly logger: HaproxyLogger;
  /** The command's environment (the controller's secrets left out, like HAProxy's own). */
  readonly env?: NodeJS.ProcessEnv;
  /** One run of the command may take this long before it is killed and counted as failed. Default 60 s. */
  readonly timeoutMs?: number;
  /** Injected for tests; default /bin/sh -c. */
  readonly run?: (command: string) => Promise<CommandRun>;
  /** HAProxy processes visible to the controller; default from /proc. */
  readonly haproxyPids?: () => Promise<ReadonlySet<number>>;
  /** How often to look for the new HAProxy process. Default 100 ms. */
  readonly pollMs?: number;
}

export class CommandHaproxy implements HaproxyTarget {
  readonly external = true;
  private closed = false;
  private readonly run: (command: string) => Promise<CommandRun>;
  private readonly pids: () => Promise<ReadonlySet<number>>;

  constructor(private readonly o: CommandHaproxyOptions) {
    this.run = o.run ?? ((command) => runShell(command, o.env ?? process.env, o.timeoutMs ?? 60_000));
    this.pids = o.haproxyPids ?? (() => haproxyPids(procTable));
  }

  runtimeChannel(): CommandChannel | null {
    return null;
  }

  isRunning(): boolean {
    return true; // not ours to know: the command starts it if it has to
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** The controller stops: no more commands. */
  close(): void {
    this.closed = true;
  }

  load(): Promise<LoadResult> {
    const { retry, clock, logger } = this.o;
    return withRetries(() => this.once(), retry, {
      clock,
      logger,
      closed: () => this.closed,
      what: `--command "${this.o.command}"`,
    });
  }

  gate(_next: DesiredState, _ops: readonly RuntimeOp[]): Promise<Result<void>> {
    return Promise.resolve(ok(undefined)); // the command's success and the new HAProxy process are all the proof there is
  }

  reloadRestored(): Promise<void> {
    this.o.logger.warn('the last good config is back on disk; it is read at the next successful --command run');
    return Promise.resolve();
  }

  private async once(): Promise<LoadResult> {
    if (this.closed) return err({ message: 'the controller is shutting down: --command is not run', refused: false });
    const { command, clock, logger } = this.o;
    logger.info(`reloading using ${command}`);
    const before = await this.pids();
    const r = await this.run(command);
    if (r.code !== 0) {
      const how = r.signal !== null ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
      return err({
        message: `--command "${command}" ${how}${r.output.trim() ? `: ${lastLines(r.output)}` : ''}`,
        refused: false,
      });
    }
    // As marathon-lb: the reload happened once an HAProxy process is there that was not before.
    const deadline = clock.now() + this.o.retry.intervalMs;
    for (;;) {
      const after = await this.pids();
      if ([...after].some((p) => !before.has(p))) return ok(undefined);
      if (before.size === 0 && after.size === 0) {
        logger.debug(
          "no HAProxy process is visible to the controller: the command's exit status is taken as the reload",
        );
        return ok(undefined);
      }
      if (clock.now() >= deadline) {
        return err({
          message: `--command "${command}" exited 0 but no new HAProxy process appeared within --reload-interval`,
          refused: false,
          waited: true,
        });
      }
      await clock.sleep(this.o.pollMs ?? 100);
    }
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

/** `/bin/sh -c command`, output kept (last 16 KiB); after `timeoutMs` its process group is killed (a child holding the output too). */
export function runShell(command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CommandRun> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (d: Buffer): void => {
      output = (output + d.toString('utf8')).slice(-16 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => killProcessGroup(child), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, output: `cannot run /bin/sh: ${e.message}` });
    });
    // The shell's exit decides; its output is awaited briefly (a daemon it started may hold the pipes).
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const finish = (): void => {
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ code, signal, output });
      };
      const grace = setTimeout(finish, 1000);
      child.once('close', () => {
        clearTimeout(grace);
        finish();
      });
    });
  });
}

/** Processes whose executable is named haproxy (marathon-lb's `pidof haproxy`), zombies left out. */
export async function haproxyPids(table: ProcessTable): Promise<ReadonlySet<number>> {
  const found = new Set<number>();
  for (const pid of await table.pids()) {
    const info = await table.info(pid);
    if (info !== undefined && info.state !== 'Z' && /(^|\/)haproxy$/.test(info.argv[0] ?? '')) found.add(pid);
  }
  return found;
}
