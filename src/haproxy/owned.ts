/**
 * The HAProxy this controller owns: a master-worker process started (or adopted) by HaproxyProcess.
 * Loads are master-socket reloads (or a start when it is not running), retried per
 * --max-reload-retries / --reload-interval when the reload is not confirmed (a refused config is
 * not retried: rejections.ts finds the app instead); the gate asks its sockets.
 */
import type { DesiredState } from '../reconcile/applyPort';
import type { RuntimeOp } from '../reconcile/plan';
import type { Clock } from './clock';
import { configListeners } from './configBinds';
import type { ConfigFiles } from './configFiles';
import { healthGate } from './gate';
import type { CommandChannel, HaproxyLogger, ProcList } from './masterSocket';
import { err, ok, type Result } from '../result';
import type { Unbindable } from './portHeld';
import type { ReloadResult, StartResult } from './process';
import { withRetries, type HaproxyTarget, type LoadResult, type RetryPolicy } from './target';

/** What this needs of HaproxyProcess (tests pass a fake that answers like HAProxy's sockets). */
export interface ManagedProcess {
  isAlive(): boolean;
  isClosed(): boolean;
  start(): Promise<StartResult>;
  reload(): Promise<ReloadResult>;
  retireAttached(): Promise<Result<unknown>>;
  showProc(): Promise<Result<ProcList>>;
  readonly master: { worker(): CommandChannel };
}

export interface OwnedHaproxyOptions {
  readonly process: ManagedProcess;
  readonly files: ConfigFiles;
  /** Files HAProxy creates itself (master socket, pid file): their directories must exist. */
  readonly runtimeFiles: readonly string[];
  readonly retry: RetryPolicy;
  readonly clock: Clock;
  readonly logger: HaproxyLogger;
  /**
   * The running master was left by an earlier controller and may not be reloaded as it is (another
   * command line or environment): the first load stops it and starts HAProxy afresh. Until then it
   * serves — a new config that cannot be written or checked leaves it serving, not nothing.
   */
  readonly replaceAdopted?: boolean;
  /**
   * Why a listener cannot be bound now (portHeld.ts): asked for every listener of the config before
   * HAProxy is started. Absent: not asked.
   */
  readonly whyUnbindable?: (address: string, port: number, options: string) => Promise<Unbindable | null>;
}

/** How long a replaced master's workers are given to close their listeners before the new one starts. */
const LISTENERS_RELEASED_WITHIN_MS = 3000;

/** Listeners probed at once before a start. */
const PROBES_AT_ONCE = 256;

export class OwnedHaproxy implements HaproxyTarget {
  readonly external = false;
  private replaceDue: boolean;

  constructor(private readonly o: OwnedHaproxyOptions) {
    this.replaceDue = o.replaceAdopted === true;
  }

  runtimeChannel(): CommandChannel | null {
    return this.o.process.isAlive() ? this.o.process.master.worker() : null;
  }

  isRunning(): boolean {
    return this.o.process.isAlive();
  }

  isClosed(): boolean {
    return this.o.process.isClosed();
  }

  load(): Promise<LoadResult> {
    const { process: p, clock, logger, retry } = this.o;
    return withRetries(
      () => (this.replaceDue ? this.replaceOnce() : p.isAlive() ? this.reloadOnce() : this.startOnce()),
      retry,
      {
        clock,
        logger,
        closed: () => p.isClosed(),
        what: 'HAProxy reload',
      },
    );
  }

  gate(next: DesiredState, ops: readonly RuntimeOp[]): Promise<Result<void>> {
    return healthGate(
      {
        showProc: () => this.o.process.showProc(),
        worker: this.o.process.master.worker(),
        warn: (message) => this.o.logger.warn(message),
      },
      next,
      ops,
    );
  }

  async servingWorker(): Promise<{ readonly master: number; readonly worker: number } | null> {
    if (!this.o.process.isAlive()) return null;
    const proc = await this.o.process.showProc();
    if (!proc.ok || proc.value.workers.length !== 1) return null;
    // Only a worker that answers serves: the master answers for one that is stopped or wedged, and
    // a restarted controller kept such an HAProxy as adopted, nothing getting through (an operator audit).
    const answer = await this.o.process.master.worker().send('show info');
    if (!answer.ok || !/^Pid: /m.test(answer.value)) return null;
    return { master: proc.value.master.pid, worker: proc.value.workers[0]!.pid };
  }

  async reloadRestored(): Promise<void> {
    const { process: p, logger } = this.o;
    if (p.isAlive()) {
      const r = await p.reload();
      if (!r.ok) logger.error(`reload of the last good config failed too: ${r.error.message}`);
    } else {
      // As any start: not beside a process that holds one of its ports (found by a fault test: two
      // HAProxies split the traffic after a refused start was rolled back).
      const r = await this.startOnce();
      if (!r.ok) logger.error(`HAProxy does not start with the last good config either: ${r.error.message}`);
    }
  }

  private async replaceOnce(): Promise<LoadResult> {
    const stopped = await this.o.process.retireAttached();
    if (!stopped.ok)
      return err({ message: `cannot stop the HAProxy master to replace: ${stopped.error}`, refused: false });
    this.replaceDue = false;
    this.o.logger.info(
      'haproxy: soft-stopped the master left by an earlier controller (it finishes its connections); starting HAProxy with the new config',
    );
    // Its workers close their listeners as the soft stop reaches them: a few ms, bounded here.
    const deadline = this.o.clock.now() + LISTENERS_RELEASED_WITHIN_MS;
    while ((await this.heldListener()) !== null && this.o.clock.now() < deadline) await this.o.clock.sleep(20);
    return this.startOnce();
  }

  private async startOnce(): Promise<LoadResult> {
    const held = await this.heldListener();
    // Refused as HAProxy refuses a config it cannot bind: an app's frontend named is left out (rejections.ts).
    if (held !== null)
      return err({
        message: `HAProxy not started: ${held} is held by another process; an HAProxy started beside another one would share its port (SO_REUSEPORT) and half the connections would go there. Stop that process, or move this one's listeners`,
        refused: true,
      });
    await this.o.files.ensureRuntimeDirs(this.o.runtimeFiles);
    await this.o.files.saveServerState(''); // the state file HAProxy's head asks for, with no server's state
    const r = await this.o.process.start();
    return r.ok
      ? ok(undefined)
      : err({ message: `HAProxy did not start: ${r.error.message}`, refused: r.error.refused ?? false });
  }

  /**
   * A listener of the config on disk another process holds, as `address:port of frontend <name>`, or null. A second
   * controller with a directory of its own but the same ports started its HAProxy beside the first,
   * and the two split the traffic without a word (found by an operator test).
   */
  private async heldListener(): Promise<string | null> {
    const why = this.o.whyUnbindable;
    if (why === undefined) return null;
    const listeners = configListeners((await this.o.files.onDisk())?.config ?? '');
    for (let i = 0; i < listeners.length; i += PROBES_AT_ONCE) {
      const batch = listeners.slice(i, i + PROBES_AT_ONCE);
      const found = await Promise.all(batch.map((l) => why(l.address, l.port, l.options)));
      const at = found.findIndex((f) => f !== null && !f.address);
      const l = batch[at];
      if (l !== undefined) return `${l.address || '*'}:${l.port} of frontend ${l.section}`;
    }
    return null;
  }

  private async reloadOnce(): Promise<LoadResult> {
    const dump = await this.o.process.master.worker().send('show servers state');
    // Only HAProxy's own dump (format 1): another process answering on the socket wrote garbage that
    // the next HAProxy loaded (found by an audit).
    if (dump.ok && SERVER_STATE_DUMP.test(dump.value)) await this.o.files.saveServerState(dump.value);
    const r = await this.o.process.reload();
    if (r.ok) {
      const { oldWorkers } = r.value;
      if (oldWorkers.length > 0)
        this.o.logger.debug(`haproxy: ${oldWorkers.length} old worker(s) finishing their connections`);
      return ok(undefined);
    }
    const f = r.error;
    const alive = this.o.process.isAlive();
    return err({
      message: f.refused
        ? f.message
        : // A reload that killed the master leaves no old worker (it said so, and every port was down).
          `HAProxy reload failed (${alive ? 'HAProxy still runs with the config before it' : 'HAProxy exited'}): ${f.message}`,
      refused: f.refused,
      // Started at once by the next try, not after --reload-interval: nothing serves meanwhile.
      ...(alive ? {} : { retryNow: true }),
    });
  }
}

/** `show servers state` as HAProxy answers it: its format version (1), then the header of its fields. */
const SERVER_STATE_DUMP = /^1\n# be_id /;
