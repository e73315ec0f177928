/**
 * One HAProxy in master-worker mode: `haproxy -W -S <master.sock>,mode,600 -f <cfg> -p <pidfile>`,
 * started and owned (a child in the foreground) or attached to through its master socket.
 *
 * - Reload: the master CLI's `reload`. The master re-executes itself with the same arguments,
 *   reads the config file again and forks a new worker; listening sockets pass from the old
 *   worker to the new one over the master's internal socketpair (HAProxy 2.6 adds `-x sockpair@…`
 *   itself, no `-x` needed). What `show proc` says before and after is decided in
 *   reloadProtocol.ts; this class only polls it.
 * - Old workers finish their connections and exit; `hard-stop-after` and `mworker-max-reloads`
 *   (global directives, see configText.ts) bound how long they may take and how many linger.
 * - stop(): SIGUSR1 (soft stop), then SIGTERM, then SIGKILL, each with a bounded wait. Once stop()
 *   or release() was called nothing starts or reloads HAProxy again through this object: an apply
 *   still running when the controller shuts down cannot bring a new HAProxy up behind its back.
 * - HAProxy runs in its own process group (detached), so a terminal's Ctrl-C reaches the controller
 *   only, which then stops HAProxy itself (or leaves it running, see release()).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { readRegularFileBounded } from '../boundedRead';
import { systemClock, type Clock } from './clock';
import { longestGraceMs } from './configText';
import { HaproxyOutputLog, isResourceFault, reloadFailureReason, startFailureReason } from './haproxyOutput';
import type { FdEnvironment } from './limits';
import { holdsListeningSocket } from './listeningSockets';
import { HaproxyLogger, MasterSocket, ProcList } from './masterSocket';
import { err, ok, type Result } from '../result';
import { OutputFile } from './outputFile';
import { reloadOutcome } from './reloadProtocol';
import { killQuietly, pidExists, procStat, runsConfig, stopEscalating, type StopResult } from './stopSignals';
import { alertLines } from './validate';

export type { StopResult } from './stopSignals';

export interface HaproxyProcessOptions {
  readonly bin: string;
  readonly configPath: string;
  readonly masterSocketPath: string;
  readonly pidFile: string;
  readonly logger: HaproxyLogger;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Until the first worker runs. Default 10 s, plus CONFIG_MS_PER_KIB. */
  readonly startTimeoutMs?: number;
  /** Until the new worker runs (or the failure is seen). Default 15 s, plus CONFIG_MS_PER_KIB. */
  readonly reloadTimeoutMs?: number;
  /** Per master-socket command. Default 5 s. */
  readonly socketTimeoutMs?: number;
  /** Waits of stop(): after SIGUSR1, SIGTERM, SIGKILL. Default 10 s, 3 s, 2 s. */
  readonly stopWaitsMs?: { readonly soft: number; readonly term: number; readonly kill: number };
  readonly pollMs?: number;
  /** Attached mode: how often the master socket is probed to notice HAProxy has gone. Default 1 s. */
  readonly watchMs?: number;
  /**
   * Warn when more old workers than this are still running after a reload (more than the config's
   * mworker-max-reloads lets linger). Default: never — draining websockets and tunnels for up to
   * hard-stop-after is the normal case.
   */
  readonly oldWorkersWarnAt?: number;
  /** Where the fd limits come from (to explain a refused start). */
  readonly fdEnvironment?: () => Promise<FdEnvironment>;
  /** Deadlines and polling (default: the system clock). */
  readonly clock?: Clock;
}

export interface Started {
  readonly masterPid: number;
  readonly workerPid: number | undefined;
  readonly attached: boolean;
}

export interface StartFailure {
  readonly message: string;
  /** HAProxy ran and refused the config (exited at startup); else it could not be tried. */
  readonly refused?: boolean;
}

export type StartResult = Result<Started, StartFailure>;

const notStarted = (message: string): StartResult => err({ message });

export interface Reloaded {
  readonly newWorkerPid: number;
  readonly oldWorkers: readonly number[];
}

export interface ReloadFailure {
  readonly message: string;
  readonly servingWorkerPids: readonly number[];
  readonly oldWorkers: readonly number[];
  /** HAProxy refused the new config (retrying the same config does not help); else a timeout or a dead socket. */
  readonly refused: boolean;
}

export type ReloadResult = Result<Reloaded, ReloadFailure>;

export interface ExitInfo {
  /** stop() was asked for. */
  readonly expected: boolean;
  /** HAProxy's last output (owned mode). */
  readonly output: string;
}
export type ExitListener = (code: number | null, signal: NodeJS.Signals | null, info: ExitInfo) => void;

const MAX_OUTPUT = 64 * 1024;
/** How often HAProxy's output file is read between starts and reloads (outputFile.ts). */
const OUTPUT_READ_MS = 250;

/**
 * A file for HAProxy's output: in memory (/dev/shm) where there is room, else in the temporary
 * directory, else beside its config (which this process writes: a container whose /tmp is
 * read-only or full).
 */
function newOutputFile(configPath: string): Result<OutputFile> {
  const made = OutputFile.createIn(['/dev/shm', tmpdir(), dirname(configPath)]);
  return made instanceof OutputFile ? ok(made) : err(`cannot make a file for HAProxy's output: ${made.error}`);
}

/** A master socket that is not there (its file removed) rather than a master that is busy or refuses. */
const SOCKET_GONE = /\((?:ENOENT|ECONNREFUSED)\)/;
/** How long an old worker may keep listening after a reload before it counts as wedged. */
const OLD_WORKER_UNBIND_MS = 5000;

export class HaproxyProcess {
  private child: ChildProcess | undefined;
  /** stop() or release() was called: nothing may start or reload HAProxy any more. */
  private closed = false;
  private attachedPid: number | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private output = '';
  private reloadLog: string[] | undefined;
  private readonly listeners = new Set<ExitListener>();
  private reloading: Promise<unknown> = Promise.resolve();
  /** From `reload` sent until its outcome: the master re-executes and its socket does not answer meanwhile. */
  private reExecuting = false;
  /**
   * The attached master runs in this controller's pid namespace (an adopted one, found in /proc):
   * its pid tells at once whether it runs. One reached only through its socket (--haproxy-attach, maybe
   * in another container) is known gone only when its socket stops answering.
   */
  private attachedIsLocal = false;
  private lastProc: ProcList | undefined;
  readonly master: MasterSocket;
  private readonly clock: Clock;
  private readonly outputLog: HaproxyOutputLog;
  /** HAProxy's stdout and stderr (outputFile.ts), read every OUTPUT_READ_MS and at each step of a start or reload. */
  private outputFile: OutputFile | undefined;
  private outputTimer: NodeJS.Timeout | undefined;
  private partialLine = '';

  constructor(private readonly o: HaproxyProcessOptions) {
    this.master = MasterSocket.at(o.masterSocketPath, o.socketTimeoutMs ?? 5000, o.logger);
    this.clock = o.clock ?? systemClock;
    this.outputLog = new HaproxyOutputLog(o.logger, () => this.clock.now());
  }

  /** The command line HAProxy is started with. */
  args(): string[] {
    return ['-W', '-S', `${this.o.masterSocketPath},mode,600`, '-f', this.o.configPath, '-p', this.o.pidFile];
  }

  /** The whole of it, as /proc shows it: --haproxy-bin as given, then args(). */
  commandLine(): string[] {
    return [this.o.bin, ...this.args()];
  }

  /** Starts HAProxy as a child and waits until its first worker runs. */
  async start(): Promise<StartResult> {
    if (this.closed) return notStarted('the controller is shutting down: HAProxy is not started again');
    if (this.isAlive()) return notStarted('HAProxy is already running under this controller');
    if (this.o.masterSocketPath.includes(','))
      return notStarted(`the master socket path may not contain a comma: ${this.o.masterSocketPath}`);
    this.stopping = false;
    this.output = '';
    const output = newOutputFile(this.o.configPath);
    // No file could be made (no room anywhere, a file size limit): a pipe, as before, rather than no HAProxy.
    if (!output.ok)
      this.o.logger.warn(
        `haproxy: ${output.error}; its output goes through a pipe, which blocks HAProxy whenever this process does not read it`,
      );
    const outputFd = output.ok ? output.value.writeFd : 'pipe';
    const child = spawn(this.o.bin, this.args(), {
      cwd: this.o.cwd,
      env: this.o.env ?? process.env,
      stdio: ['ignore', outputFd, outputFd],
      detached: true,
    });
    const piped = new Promise<void>((resolve) => child.once('close', () => resolve()));
    if (output.ok) {
      output.value.closeWriter();
      this.followOutput(output.value);
    } else {
      this.partialLine = '';
      child.stdout?.on('data', (d: Buffer) => this.takeOutput(d.toString('utf8')));
      child.stderr?.on('data', (d: Buffer) => this.takeOutput(d.toString('utf8')));
    }
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    if (child.pid === undefined) {
      this.stopFollowingOutput();
      return notStarted(`cannot start ${this.o.bin}: ${(await spawnError).message}`);
    }
    child.on('error', (err) => this.o.logger.error(`haproxy: ${err.message}`));
    this.child = child;
    this.attachedPid = undefined;
    let ready = false; // a failed start is start()'s answer, not an exit to report
    child.once('exit', (code, signal) => {
      if (this.child === child) {
        this.child = undefined;
        this.stopFollowingOutput(); // all of its output, read before it is explained
      }
      if (ready) this.emitExit(code, signal);
    });
    const startTimeoutMs = this.o.startTimeoutMs ?? 10000 + configAllowanceMs(this.o.configPath);
    const deadline = this.clock.now() + startTimeoutMs;
    for (;;) {
      this.readOutput();
      if (child.exitCode !== null || child.signalCode !== null) {
        if (!output.ok) await Promise.race([piped, this.clock.sleep(1000)]); // all of its output, before explaining
        this.stopFollowingOutput();
        const status = child.signalCode ? `killed by ${child.signalCode}` : `exit code ${child.exitCode}`;
        return err({
          message: await startFailureReason(this.output, status, this.o.configPath, this.o.fdEnvironment),
          refused: true,
        });
      }
      const proc = await this.master.showProc();
      if (proc.ok && proc.value.master.pid === child.pid && proc.value.workers.length > 0) {
        ready = true;
        this.lastProc = proc.value;
        this.o.logger.info(`haproxy: started, master ${child.pid}, worker ${proc.value.workers[0]?.pid}`);
        return ok({ masterPid: child.pid, workerPid: proc.value.workers[0]?.pid, attached: false });
      }
      if (this.clock.now() > deadline) {
        await this.terminate();
        return err({
          message: `HAProxy did not start its worker within ${startTimeoutMs} ms: ${alertLines(this.output) || 'no output'}`,
          refused: true,
        });
      }
      await this.clock.sleep(this.o.pollMs ?? 50);
    }
  }

  /**
   * Takes over an HAProxy master already running on the master socket. `local`: it runs in this pid
   * namespace (takeover.ts found it in /proc), so its death is seen from its pid, within a watch tick,
   * during a reload too. Seen only from the socket, a master killed as a reload began left nothing
   * serving for 25 s: the reload waited out its timeout, and missed answers do not count meanwhile.
   */
  async attach(o: { readonly local?: boolean } = {}): Promise<StartResult> {
    if (this.closed) return notStarted('the controller is shutting down: not attaching to HAProxy');
    if (this.isAlive()) return notStarted('HAProxy is already running under this controller');
    const proc = await this.master.showProc();
    if (!proc.ok) return notStarted(`no HAProxy master to attach to: ${proc.error}`);
    this.lastProc = proc.value;
    this.attachedPid = proc.value.master.pid;
    this.attachedIsLocal = o.local === true;
    this.stopping = false;
    // One this process's predecessor started writes its output into a file of its own: read on here.
    const output = this.attachedIsLocal ? OutputFile.ofProcess(this.attachedPid) : undefined;
    if (output !== undefined) this.followOutput(output);
    this.watch();
    this.o.logger.info(`haproxy: attached to master ${this.attachedPid}`);
    return ok({ masterPid: this.attachedPid, workerPid: proc.value.workers[0]?.pid, attached: true });
  }

  isAlive(): boolean {
    if (this.child) return this.child.exitCode === null && this.child.signalCode === null;
    return this.attachedPid !== undefined && (!this.attachedIsLocal || pidExists(this.attachedPid));
  }

  masterPid(): number | undefined {
    return this.child?.pid ?? this.attachedPid;
  }

  /** The running master's pid when it is in this pid namespace (started here, or adopted), else undefined. */
  localMasterPid(): number | undefined {
    if (!this.isAlive()) return undefined;
    return this.child?.pid ?? (this.attachedIsLocal ? this.attachedPid : undefined);
  }

  /** Workers of earlier configs still running, as of the last `show proc`. */
  oldWorkerCount(): number {
    return this.lastProc?.oldWorkers.length ?? 0;
  }

  async showProc(): Promise<Result<ProcList>> {
    const proc = await this.master.showProc();
    if (proc.ok) this.lastProc = proc.value;
    return proc;
  }

  /**
   * Called when a started HAProxy exits (owned) or stops answering (attached) — not for a start
   * that failed, which start() reports. Returns an unsubscribe.
   */
  onExit(listener: ExitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reloads through the master socket and waits for the new worker; one reload at a time. */
  reload(): Promise<ReloadResult> {
    const run = (): Promise<ReloadResult> => this.reloadOnce();
    const result = this.reloading.then(run, run);
    this.reloading = result;
    return result;
  }

  private async reloadOnce(): Promise<ReloadResult> {
    const failed = (message: string, proc?: ProcList, refused = false): ReloadResult =>
      err({
        message,
        refused,
        servingWorkerPids: (proc ?? this.lastProc)?.workers.map((w) => w.pid) ?? [],
        oldWorkers: (proc ?? this.lastProc)?.oldWorkers.map((w) => w.pid) ?? [],
      });
    if (this.closed) return failed('the controller is shutting down: HAProxy is not reloaded');
    if (!this.isAlive()) return failed('HAProxy is not running: start it first');
    const before = await this.showProc();
    if (!this.isAlive()) return failed('HAProxy exited during the reload'); // its socket went with it
    const pid = this.masterPid();
    const known = this.lastProc;
    // The socket file is gone (removed by hand, a temp cleaner) while the master runs: every reload
    // through it failed, forever. SIGUSR2 is the same reload, and the re-executed master binds it again.
    const bySignal = !before.ok && SOCKET_GONE.test(before.error) && pid !== undefined && known !== undefined;
    if (!before.ok && !bySignal) return failed(`cannot reload: ${before.error}`);
    this.reloadLog = [];
    this.reExecuting = true;
    try {
      if (bySignal) {
        this.o.logger.warn(
          `haproxy: the master socket does not answer (${before.error}) though master ${pid} runs: reloading it with SIGUSR2, which binds the socket again`,
        );
        try {
          process.kill(pid, 'SIGUSR2');
        } catch (e) {
          return failed(`cannot signal HAProxy master ${pid}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        }
      } else {
        const sent = await this.master.reload();
        if (!sent.ok) return failed(sent.error, before.ok ? before.value : undefined, 'refused' in sent);
      }
      const from = before.ok ? before.value : known!;
      const timeoutMs = this.o.reloadTimeoutMs ?? 15000 + configAllowanceMs(this.o.configPath);
      const deadline = this.clock.now() + timeoutMs;
      while (this.clock.now() <= deadline) {
        if (!this.isAlive()) return failed('HAProxy exited during the reload');
        const proc = await this.showProc();
        this.readOutput(); // what it printed up to its answer (a refused config's alerts)
        const outcome = proc.ok ? reloadOutcome(from, proc.value) : { kind: 'waiting' as const };
        if (outcome.kind === 'loaded') return this.reloaded(outcome.newWorkerPid, outcome.oldWorkers);
        if (outcome.kind === 'refused') {
          const why = await reloadFailureReason(this.reloadLog ?? [], this.o.bin, this.o.configPath);
          const serving = outcome.servingWorkerPids.join(', ') || 'none';
          // An unwritable pid file was told as a refused config (an audit): the operator's to mend.
          const what = isResourceFault(why)
            ? 'HAProxy could not run the new config for a reason outside it (its own files or resources)'
            : 'HAProxy rejected the new config';
          return failed(
            `${what}; the previous worker (${serving}) keeps serving: ${why}`,
            proc.ok ? proc.value : undefined,
            true,
          );
        }
        await this.clock.sleep(this.o.pollMs ?? 50);
      }
      return failed(`HAProxy did not confirm the reload within ${timeoutMs} ms`);
    } finally {
      this.reloadLog = undefined;
      this.reExecuting = false;
    }
  }

  private reloaded(newWorkerPid: number, oldWorkers: readonly number[]): ReloadResult {
    this.o.logger.info(`haproxy: reloaded, new worker ${newWorkerPid}, ${oldWorkers.length} old worker(s) finishing`);
    if (oldWorkers.length > 0 && this.localMasterPid() !== undefined) void this.stopWedged(oldWorkers);
    if (oldWorkers.length > (this.o.oldWorkersWarnAt ?? Infinity)) {
      this.o.logger.warn(
        `haproxy: ${oldWorkers.length} old workers still running (${oldWorkers.join(', ')}), more than --max-old-workers lets linger (does HAPROXY_HEAD set mworker-max-reloads?)`,
      );
    }
    return ok({ newWorkerPid, oldWorkers });
  }

  /**
   * Old workers that still listen OLD_WORKER_UNBIND_MS after a reload are killed. An old worker stops
   * listening at once when told to stop (it finishes its connections without taking new ones); one
   * that does not is wedged, and the kernel still gives it a share of new connections (SO_REUSEPORT),
   * which wait there unanswered: half of them, after a reload with a frozen worker, while every
   * status said healthy (found by an operator test).
   */
  private async stopWedged(oldWorkers: readonly number[]): Promise<void> {
    // A `grace` keeps a stopping proxy listening that long on purpose.
    let grace = 0;
    try {
      grace = longestGraceMs(readFileSync(this.o.configPath, 'utf8'));
    } catch {
      // no config to read: no grace
    }
    const waitMs = OLD_WORKER_UNBIND_MS + grace;
    await this.clock.sleep(waitMs);
    if (this.closed) return;
    const master = this.localMasterPid();
    for (const pid of oldWorkers) {
      // Still a child of this master (not a pid given to another process since), and listening.
      if (master === undefined || Number(procStat(pid)?.[1]) !== master || !holdsListeningSocket(pid)) continue;
      this.o.logger.warn(
        `haproxy: old worker ${pid} still listens ${waitMs / 1000} s after the reload: it does not stop (wedged?) and would leave its share of new connections unanswered; killing it`,
      );
      killQuietly(pid);
    }
  }

  /**
   * Soft stop, then SIGTERM, then SIGKILL; resolves once HAProxy is gone (or could not be ended).
   * A reload under way is given a few seconds to finish first (a master re-executing itself is
   * no time to signal it). Afterwards this object starts and reloads nothing.
   */
  async stop(): Promise<StopResult> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>(
      (r) => (timer = setTimeout(r, Math.min(this.o.reloadTimeoutMs ?? 15000, 5000, this.o.stopWaitsMs?.soft ?? 5000))),
    );
    await Promise.race([this.reloading.catch(() => undefined), bound]);
    clearTimeout(timer); // a pending timer would hold the exiting process for its full length
    return this.terminate();
  }

  /**
   * Leaves HAProxy running for the next controller to adopt (--leave-haproxy-running): forgets it
   * without a signal, and lets this process exit although HAProxy is its child.
   */
  release(): void {
    this.closed = true;
    this.stopping = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    // HAProxy keeps writing into its output file: the controller that adopts it reads on (attach).
    this.stopFollowingOutput();
    const child = this.child;
    child?.stdout?.destroy(); // a pipe (no file could be made) would hold this process
    child?.stderr?.destroy();
    child?.unref();
  }

  /**
   * Stops the master this object attached to (one an earlier controller left, which may not be
   * reloaded as it is: another command line or environment) so that start() can replace it. Called
   * once the config that replaces it is written and checked: until then it kept serving.
   */
  async stopAttached(): Promise<StopResult> {
    if (this.child !== undefined || this.attachedPid === undefined) return ok('not-running');
    const r = await this.terminate();
    this.stopping = false;
    return r;
  }

  /**
   * Replaces the master this object attached to without waiting for its connections to end: it is
   * soft-stopped (its workers close their listeners at once and finish what they serve), forgotten
   * without an exit event, and ended in the background (SIGTERM, then SIGKILL, after the stop waits),
   * so that start() can bind in its place at once. Waiting for it to exit first refused every new
   * connection as long as one connection stayed open on it: ~9 s with a WebSocket (found by a load
   * test). Its files are left: the new master writes its own. A master seen only through its socket
   * cannot be signalled apart from it: stopAttached() then.
   */
  async retireAttached(): Promise<StopResult> {
    if (this.child !== undefined || this.attachedPid === undefined) return ok('not-running');
    if (!this.attachedIsLocal) return this.stopAttached();
    const pid = this.attachedPid;
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    this.attachedPid = undefined;
    this.stopFollowingOutput();
    const waits = this.o.stopWaitsMs ?? { soft: 10000, term: 3000, kill: 2000 };
    void stopEscalating(pid, () => pidExists(pid), waits, this.clock, this.o.pollMs ?? 50).then((r) => {
      if (!r.ok) this.o.logger.warn(`haproxy: the replaced master ${pid} did not end: ${r.error}`);
    });
    return ok('soft');
  }

  /** The last resort of a shutdown that ran out of time: SIGKILL to the master and its known workers, now. */
  killNow(): void {
    this.closed = true;
    this.stopping = true;
    const pid = this.child?.pid ?? this.attachedPid;
    const workers = [...(this.lastProc?.workers ?? []), ...(this.lastProc?.oldWorkers ?? [])].map((w) => w.pid);
    for (const p of pid === undefined || !this.isAlive() ? [] : [pid, ...workers]) {
      killQuietly(p);
    }
  }

  /** stop() or release() was called. */
  isClosed(): boolean {
    return this.closed;
  }

  private async terminate(): Promise<StopResult> {
    this.stopping = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    const child = this.child;
    const pid = child?.pid ?? this.attachedPid;
    if (pid === undefined || !this.isAlive()) return ok('not-running');
    const alive = (): boolean => (child ? child.exitCode === null && child.signalCode === null : pidExists(pid));
    const r = await stopEscalating(
      pid,
      alive,
      this.o.stopWaitsMs ?? { soft: 10000, term: 3000, kill: 2000 },
      this.clock,
      this.o.pollMs ?? 50,
    );
    if (r.ok) {
      this.gone(child);
      this.removeFilesOf(pid);
    }
    return r;
  }

  /**
   * The master socket and pid file HAProxy leaves behind when it is stopped: a stopped controller
   * leaves no trace of a master that no longer runs. The pid file only while it names that master.
   */
  private removeFilesOf(pid: number): void {
    try {
      if (readRegularFileBounded(this.o.pidFile, 4096).toString().trim() === String(pid)) rmSync(this.o.pidFile);
    } catch {
      // not there, or not ours to remove
    }
    try {
      if (statSync(this.o.masterSocketPath).isSocket()) rmSync(this.o.masterSocketPath);
    } catch {
      // not there
    }
  }

  private gone(child: ChildProcess | undefined): void {
    if (!child && this.attachedPid !== undefined) {
      this.attachedPid = undefined;
      this.stopFollowingOutput();
      this.emitExit(null, null);
    }
  }

  private watch(): void {
    let misses = 0;
    const gone = (): void => {
      clearInterval(this.watchTimer);
      this.watchTimer = undefined;
      this.attachedPid = undefined;
      this.stopFollowingOutput();
      this.emitExit(null, null);
    };
    this.watchTimer = setInterval(() => {
      // A master's pid stays through its re-execution for a reload: without it, it is gone.
      if (this.attachedPid !== undefined && !this.stopping && !this.isAlive()) return gone();
      void this.master.showProc().then((proc) => {
        if (this.attachedPid === undefined || this.stopping) return;
        // a master re-executing for our reload is not gone: its reload loop has its own timeout
        misses = proc.ok || this.reExecuting ? 0 : misses + 1;
        if (proc.ok) this.lastProc = proc.value;
        // One in this pid namespace is gone when its pid is (above): unanswered, it is busy or paused
        // (SIGSTOP), not gone. Taken for gone, another HAProxy was started on its ports, for good.
        if (misses >= 3 && !this.attachedIsLocal) gone();
      });
    }, this.o.watchMs ?? 1000);
    this.watchTimer.unref();
  }

  /**
   * The workers of a master that died under us. A running one sees it go and exits; one stopped
   * (SIGSTOP) or wedged never does, and kept every port for good, while each start failed on them
   * as "held by another process" (an audit: an OOM-killed master).
   */
  private endOrphanedWorkers(): void {
    const workers = [...(this.lastProc?.workers ?? []), ...(this.lastProc?.oldWorkers ?? [])].map((w) => w.pid);
    for (const pid of workers) {
      if (!runsConfig(pid, this.o.configPath)) continue;
      this.o.logger.warn(`haproxy: ending worker ${pid}, left running by its master's death`);
      killQuietly(pid);
    }
  }

  private emitExit(code: number | null, signal: NodeJS.Signals | null): void {
    const info: ExitInfo = { expected: this.stopping, output: this.output };
    if (!this.stopping) {
      // Killed: the signal is the cause (its output holds older alerts, such as a backend without
      // servers). Exited by itself: its last alerts say why.
      // One log line: the alerts joined, not a line break the log would show escaped.
      const alerts = signal === null ? alertLines(this.output).split('\n').join('; ') : '';
      this.o.logger.error(
        `haproxy: master exited unexpectedly${exitCause(code, signal)}${alerts === '' ? '' : `; its last alerts: ${alerts}`}`,
      );
      this.endOrphanedWorkers();
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(code, signal, info);
      } catch (err) {
        this.o.logger.error(`haproxy: exit listener failed: ${(err as Error).message}`);
      }
    }
  }

  private followOutput(file: OutputFile): void {
    this.stopFollowingOutput();
    this.outputFile = file;
    this.partialLine = '';
    this.outputTimer = setInterval(() => this.readOutput(), OUTPUT_READ_MS);
    this.outputTimer.unref();
  }

  /** The last of the output read, and the file let go (HAProxy, if it still runs, holds its own end). */
  private stopFollowingOutput(): void {
    if (this.outputFile === undefined) return;
    this.readOutput();
    if (this.partialLine !== '') this.log(this.partialLine);
    this.partialLine = '';
    clearInterval(this.outputTimer);
    this.outputTimer = undefined;
    this.outputFile.close();
    this.outputFile = undefined;
  }

  private readOutput(): void {
    this.takeOutput(this.outputFile?.readNew() ?? '');
  }

  /** HAProxy's output, from its file or its pipe: kept for explaining failures, and logged line by line. */
  private takeOutput(text: string): void {
    if (text === '') return;
    this.output = (this.output + text).slice(-MAX_OUTPUT);
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) this.log(line);
  }

  private log(line: string): void {
    if (line.trim() === '') return;
    this.reloadLog?.push(line);
    this.outputLog.line(line);
  }
}

/**
 * HAProxy parses the whole config before a worker runs: 10 000 backends (about 8 MiB) take 5 s on an
 * idle core, several times that on a busy one. The default waits grow with the file, so a big config
 * is not taken for a stuck HAProxy (and then for a bad app, found by trial reloads).
 */
const CONFIG_MS_PER_KIB = 10;
function configAllowanceMs(configPath: string): number {
  try {
    return Math.round((statSync(configPath).size / 1024) * CONFIG_MS_PER_KIB);
  } catch {
    return 0;
  }
}

/** How a process ended, for a log line: ` (code 1)`, ` (killed by SIGKILL)`, or nothing for an adopted master (not our child: neither is known). */
export function exitCause(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal !== null) return ` (killed by ${signal})`;
  return code === null ? '' : ` (code ${code})`;
}
