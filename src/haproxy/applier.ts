/**
 * One apply is one transaction, read top to bottom like HAProxy's Kubernetes ingress's
 * updateHAProxy(): remember what to roll back to → runtime changes (task churn, no reload) →
 * validate (leaving out apps `haproxy -c` rejects) → write → reload if a reason exists → gate
 * (leaving out apps HAProxy refuses to run) → commit, or roll back and fail.
 *
 * The parts: ConfigFiles (files, candidates, `haproxy -c`), RuntimeUpdater (stats socket),
 * HaproxyTarget (load = reload/start/--command with retries, gate), rejections.ts (who to blame).
 * The plan comes from the pipeline; where the transaction has to change it (the runtime API
 * refused → a reload; rejected apps left out → the change HAProxy got), the report says so, with
 * typed reasons, and logs and metrics read the report.
 */
import { Observable, from } from 'rxjs';
import type { Service } from '../model/types';
import type { RenderedConfig } from '../render/render';
import type { ApplyPort, ApplyReport, DesiredState, Rejection } from '../reconcile/applyPort';
import { plan as planChange, type Plan } from '../reconcile/plan';
import { formatReason, type ExistingConfigReason, type ReloadReason } from '../reconcile/reloadReason';
import { err, ok, type Result } from '../result';
import type { ConfigFiles, Files } from './configFiles';
import { serverLinesOf } from './configText';
import { checkFdLimits, type FdEnvironment } from './limits';
import type { HaproxyLogger } from './masterSocket';
import { rejectedAtGate, rejectedByCheck, rejectedByHang, without, type Candidates } from './rejections';
import { RuntimeUpdater } from './runtimeUpdate';
import type { ServedMark } from './servedMark';
import type { HaproxyTarget, LoadFailure } from './target';

export interface ApplierOptions {
  readonly target: HaproxyTarget;
  readonly files: ConfigFiles;
  readonly logger: HaproxyLogger;
  /** Where the fd limits come from; absent when HAProxy is not ours to start (--command). */
  readonly fdEnvironment?: () => Promise<FdEnvironment>;
  /** Renders services: a fast-path state's whole config, and a subset without the apps HAProxy rejects. */
  readonly render?: (services: readonly Service[]) => RenderedConfig;
  /** False with --skip-config-cleanup: a rejected config is not retried without the apps HAProxy refused. */
  readonly leaveOutRejected?: boolean;
  /** Reloads tried to find the app a refused reload does not name (default 16: one culprit among ~10 000). */
  readonly maxTrialReloads?: number;
  /** The note that HAProxy's worker runs the files on disk (servedMark.ts); absent when HAProxy is not ours. */
  readonly servedMark?: ServedMark;
  /** The master adopted from an earlier controller (or attached to): the first apply keeps it when the note holds. */
  readonly adoptedMaster?: number;
}

/** What HAProxy runs when a new config is refused: no apply yet, it may run nothing at all. */
const keptConfig = (previous: DesiredState | null): string =>
  previous === null ? 'HAProxy keeps what it runs, if anything' : 'the running one is kept';

/** Thrown by an apply that could not be made; the message says why and what was kept. */
class ApplyError extends Error {}

/** The change under way: what HAProxy should run, how, and who was left out on the way. */
interface Change {
  readonly state: DesiredState;
  readonly plan: Plan;
  readonly rejected: readonly Rejection[];
  /**
   * Why the runtime API is out for this change — it refused, or trial configs ran (finding apps
   * HAProxy cannot run): only a reload brings HAProxy to `state`, for this reason when the plan has none.
   */
  readonly fallback: ReloadReason | null;
  /** `state` is a fast-path state rendered in full for a reload: HAProxy runs it, not the one asked. */
  readonly rendered?: true;
}

/** One commit: its report, or why HAProxy did not run the change. */
type Step = Result<ApplyReport, LoadFailure>;

/** Rounds of leaving out apps a refused reload names before giving up (each round leaves out at least one). */
const MAX_GATE_ROUNDS = 5;

export class HaproxyApplier implements ApplyPort {
  /** Applies and reloads under way: one a stop cut short still rolls back and writes its files. */
  private readonly underWay = new Set<Promise<unknown>>();
  /** Until the first apply: the master adopted, which that apply may keep as it is. */
  private adoptedMaster: number | undefined;

  constructor(private readonly o: ApplierOptions) {
    this.adoptedMaster = o.adoptedMaster;
  }

  apply(next: DesiredState, plan: Plan, previous: DesiredState | null): Observable<ApplyReport> {
    return from(this.tracked(this.transaction(next, plan, previous)));
  }

  /** Settles once every apply and reload under way has ended, however it ended. */
  settled(): Promise<void> {
    return Promise.allSettled([...this.underWay]).then(() => undefined);
  }

  private tracked<T>(work: Promise<T>): Promise<T> {
    this.underWay.add(work);
    const done = (): void => void this.underWay.delete(work);
    work.then(done, done);
    return work;
  }

  /**
   * SIGUSR1 (marathon-lb's do_reload), or HAProxy exited under us: validate the config on disk, then
   * make HAProxy read it (starting it when it does not run).
   */
  reloadExisting(why: ExistingConfigReason, current: DesiredState | null): Observable<ApplyReport> {
    return from(this.tracked(this.reloadFromDisk(why, current)));
  }

  serving(): boolean {
    return this.o.target.external || this.o.target.isRunning();
  }

  writeUnwritten(): Observable<boolean> {
    return from(
      this.tracked(
        this.forgetServed()
          .then(() => this.o.files.writeUnwritten())
          .catch((e: Error) => {
            throw new ApplyError(
              `the config HAProxy runs could not be written (its next reload, a SIGUSR1's too, would read an older one): ${e.message}`,
            );
          }),
      ),
    );
  }

  private async reloadFromDisk(why: ExistingConfigReason, current: DesiredState | null): Promise<ApplyReport> {
    // Asked while HAProxy was silent, run (or retried) once it answers again: its worker serves, and
    // the reload only cut its connections (an audit: a master stopped 40 s, its worker serving all along).
    if (why.kind === 'haproxy-silent' && (await this.o.target.servingWorker?.()) != null) {
      this.o.logger.info('HAProxy answers again: the reload asked for its silence is not needed');
      return { reloaded: false, reasons: [], runtimeOps: 0 };
    }
    await this.forgetServed();
    const what =
      why.kind === 'sigusr1'
        ? 'SIGUSR1'
        : why.kind === 'haproxy-restarted'
          ? 'restarting HAProxy'
          : why.kind === 'haproxy-silent'
            ? 'replacing a worker that does not answer'
            : 'rebinding the master socket';
    // Not written (a full disk): HAProxy is loaded with the file as it is, older but better than
    // none, and the reload counts as failed, so it is tried again (and written) until it succeeds.
    let unwritten: string | undefined;
    const restored =
      current !== null &&
      (await this.restoreLastApplied(current).catch((e: Error) => {
        unwritten = e.message;
        return false;
      }));
    // Started again meanwhile (an apply's retry, after a reload that killed the master) with the
    // files on disk: a reload now would only repeat that reload (a crash loop, found by an audit).
    if (why.kind === 'haproxy-restarted' && !restored && unwritten === undefined && this.isOwnedAndRunning())
      return { reloaded: false, reasons: [], runtimeOps: 0 };
    // Restarted with the older file by an earlier try: loading it again would change nothing but cut
    // connections, at every retry until the file can be written (helper 75: 7 reloads in 40 s).
    if (why.kind === 'haproxy-restarted' && unwritten !== undefined && this.isOwnedAndRunning())
      throw new ApplyError(
        `restarting HAProxy: not loaded again from the same older config on disk; the one last applied still cannot be written: ${unwritten}`,
      );
    // HAProxy runs what was last applied: reloading the older file would drop (or bring back) servers,
    // at every retry (helper 72: 80 live tasks dropped, 7 reloads in 26 s). Only a HAProxy that does
    // not run is better off with it.
    if (why.kind !== 'haproxy-restarted' && unwritten !== undefined)
      throw new ApplyError(
        `${what}: not reloading: the config on disk is older than the one HAProxy runs, which could not be written: ${unwritten}`,
      );
    const check = await this.o.files.checkOnDisk();
    if (!check.ok) {
      // A check that did not run (the binary gone, a timeout) says nothing of the config.
      const judged = check.error.refused ? 'is not valid' : 'could not be checked';
      throw new ApplyError(`${what}: the config on disk ${judged}, not reloading: ${check.error.message}`);
    }
    const loaded = await this.o.target.load();
    if (!loaded.ok) throw new ApplyError(loaded.error.message);
    if (unwritten !== undefined) {
      // HAProxy runs again, with the servers last applied: the restart is done; the file is owed, and
      // written with backoff until it can be (write-files work, an error of its own in /status). Failed
      // instead, it kept the restart owed, and /healthz turned 503 while HAProxy matched Marathon (helper 76).
      if (current !== null && (await this.serversOf(current))) {
        this.o.logger.warn(
          `${what}: HAProxy started from the older config on disk and brought to the servers last applied through the runtime API; ${unwritten}`,
        );
        this.o.files.oweWrite(this.lastAppliedFiles(current));
        return { reloaded: true, reasons: [why], runtimeOps: 0 };
      }
      throw new ApplyError(
        `${what}: HAProxy runs the config on disk, not the one last applied, which could not be written: ${unwritten}`,
      );
    }
    return { reloaded: true, reasons: [why], runtimeOps: 0 };
  }

  /**
   * HAProxy started from an older file than `current` (it could not be written): the servers of
   * `current` through the runtime API, when only servers differ from the state whose files are on
   * disk. Whether HAProxy runs them now. Started from the older file alone, HAProxy served killed
   * tasks for as long as the disk stayed full (helper 75: every request 503).
   */
  private async serversOf(current: DesiredState): Promise<boolean> {
    const onDisk = this.o.files.writtenState();
    if (onDisk === undefined) return false;
    if (onDisk === current) return true;
    const p = planChange(onDisk.model.services, current.model.services, {
      previous: onDisk.rendered.config,
      next: current.rendered.config,
    });
    if (p.reloadReasons.length > 0) return false;
    if (p.runtimeOps.length === 0) return true;
    try {
      const refused = await this.runtimeUpdate({ state: current, plan: p, rejected: [], fallback: null });
      return refused === null;
    } catch (e) {
      this.o.logger.warn(`cannot bring HAProxy's servers to the last applied: ${(e as Error).message}`);
      return false;
    }
  }

  private async transaction(asked: DesiredState, plan: Plan, previous: DesiredState | null): Promise<ApplyReport> {
    // Runtime-only: nothing outside server lines changed, so neither did the file descriptors HAProxy needs.
    if (plan.reloadReasons.length > 0 || previous === null) await this.preflight(asked);
    const rollback = previous === null ? await this.o.files.onDisk() : this.o.files.of(previous);
    if (this.o.target.external && rollback !== null && sameFiles(rollback, this.o.files.of(asked))) {
      this.o.logger.debug('skipping reload: config/map unchanged');
      return { reloaded: false, reasons: [], runtimeOps: 0 };
    }
    if (await this.keptAsAdopted(previous, rollback, asked))
      return { reloaded: false, reasons: [], runtimeOps: 0, keptAdopted: true };
    await this.forgetServed();
    const report = await this.changed(asked, plan, previous, rollback);
    this.noteServed(report.applied ?? asked);
    return report;
  }

  /**
   * The first apply after adopting an HAProxy whose worker, the note says, runs the files on disk,
   * when those are the files of `asked`: nothing to do (marathon-lb's "config unchanged").
   */
  private async keptAsAdopted(
    previous: DesiredState | null,
    rollback: Files | null,
    asked: DesiredState,
  ): Promise<boolean> {
    const master = this.adoptedMaster;
    this.adoptedMaster = undefined;
    const { servedMark: mark, target } = this.o;
    if (master === undefined || previous !== null || rollback === null || mark === undefined) return false;
    if (target.servingWorker === undefined || !sameFiles(rollback, this.o.files.of(asked))) return false;
    const serving = await target.servingWorker();
    if (serving === null || serving.master !== master || !(await mark.holds(serving.master, serving.worker)))
      return false;
    this.o.logger.info(
      `the adopted HAProxy master ${master} runs this very config already (its worker ${serving.worker} read the files on disk): kept as it is, not reloaded`,
    );
    return true;
  }

  /**
   * What HAProxy runs may change: the note that it runs the files on disk goes first. One that cannot
   * be removed does not stop the apply: a reload or a write of the files after it makes it hold no
   * more (another worker, other files); only a runtime-only change could leave it holding.
   */
  private async forgetServed(): Promise<void> {
    try {
      await this.o.servedMark?.clear();
    } catch (e) {
      this.o.logger.warn(
        `cannot remove the note that HAProxy runs the files on disk (${(e as Error).message}): a controller started later might keep a HAProxy whose servers changed at runtime since; remove it, or make its directory writable`,
      );
    }
  }

  /** HAProxy runs `state`: noted once its files are on disk (not a fast-path state's: its servers are runtime-only). */
  private noteServed(state: DesiredState): void {
    const { servedMark: mark, target, files } = this.o;
    if (mark === undefined || target.servingWorker === undefined || state.source?.fast === true) return;
    const written = files.of(state);
    // Tracked like an apply: a controller that stops leaving HAProxy running waits for the note.
    void this.tracked(
      mark
        .record(
          () => target.servingWorker!(),
          () => files.hold(written),
        )
        .catch((e: Error) => this.o.logger.debug(`cannot note that HAProxy runs the files on disk: ${e.message}`)),
    );
  }

  /** The transaction proper: runtime changes, or validate, write, reload and gate; rolled back on failure. */
  private async changed(
    asked: DesiredState,
    plan: Plan,
    previous: DesiredState | null,
    rollback: Files | null,
  ): Promise<ApplyReport> {
    // Whether HAProxy or its files may differ from the last good state: only then is there anything to roll back.
    let touched = false;
    try {
      let change: Change = { state: asked, plan, rejected: [], fallback: null };
      if (this.runtimeFits(change.plan)) {
        // 1. runtime changes
        touched = true;
        const refused = await this.runtimeUpdate(change);
        if (refused === null) return this.report(change, false);
        this.notStopping(refused);
        change = {
          ...change,
          ...this.rendered(change.state),
          plan: reloadBecause(refused, this.o.logger),
          fallback: refused,
        };
      }
      change = await this.validated(change, previous); // 2. validate
      touched = true;
      return await this.committed(change, previous); // 3. write, reload, gate
    } catch (e) {
      // 4. or roll back. A config refused by `haproxy -c` alone changed nothing: a reload to "restore" it
      // would only cut connections (one per retry).
      if (touched) await this.rollBack(rollback);
      throw e;
    }
  }

  /** Commits `change`; when HAProxy refuses to run it, leaves out the apps it refuses and commits the rest. */
  private async committed(change: Change, previous: DesiredState | null): Promise<ApplyReport> {
    for (let round = 0; ; round++) {
      const step = await this.commit(change);
      if (step.ok) return step.value;
      const c = this.candidates();
      const found =
        c === null || round >= MAX_GATE_ROUNDS
          ? null
          : await rejectedAtGate(step.error, change.state, previous, c, this.o.maxTrialReloads ?? 16);
      if (c === null || found === null || found.rejected.length === 0) throw new ApplyError(step.error.message);
      change = this.leaveOut(c, change, found.rejected, previous, found.trials);
    }
  }

  /** HAProxy ≥ 2.3 would refuse to start for want of file descriptors (`haproxy -c` does not see it). */
  private async preflight(asked: DesiredState): Promise<void> {
    if (this.o.fdEnvironment === undefined) return;
    const limits = checkFdLimits(this.o.files.of(asked).config, await this.o.fdEnvironment());
    if (!limits.ok) throw new ApplyError(limits.error.message);
  }

  private runtimeFits(plan: Plan): boolean {
    return plan.reloadReasons.length === 0 && this.o.target.runtimeChannel() !== null;
  }

  /**
   * Serves the plan's runtime ops, then writes the files for the next reload, then the gate. Null
   * when done, else why a reload is needed instead. No `haproxy -c` here: the plan found nothing
   * changed outside server lines, and HAProxy's runtime API just accepted each added server as its
   * line defines it (at 10 000 backends `haproxy -c` costs seconds). A fast-path state's config text
   * is the one on disk already (its servers changed at runtime only): nothing to write.
   */
  private async runtimeUpdate(change: Change): Promise<ReloadReason | null> {
    const channel = this.o.target.runtimeChannel();
    if (channel === null) return { kind: 'not-running' };
    const source = change.state.source;
    // From the config text (that backend's section only) when a fast state does not carry them.
    const linesOf = (backend: string): ReadonlyMap<string, string> | undefined =>
      source?.serverLines?.get(backend) ?? serverLinesOf(this.o.files.of(change.state).config, backend);
    const refused = await new RuntimeUpdater(channel, this.o.logger).apply(change.plan.runtimeOps, linesOf);
    if (refused !== null) return refused;
    if (source?.fast !== true) this.o.files.writeBehind(this.o.files.of(change.state));
    if (change.plan.runtimeOps.length === 0) return null; // the file only: HAProxy runs this state already
    const gated = await this.o.target.gate(change.state, change.plan.runtimeOps);
    if (!gated.ok) throw new ApplyError(gated.error);
    return null;
  }

  /** `haproxy -c` rejects the config: leave out the services it rejects (any number of them). */
  private async validated(change: Change, previous: DesiredState | null): Promise<Change> {
    const files = this.o.files.of(change.state);
    const verdict = await this.o.files.check(files);
    if (verdict.ok) return change;
    const c = this.candidates();
    // A check that did not complete (a timeout): what it hangs on alone is left out; when nothing
    // hangs alone (a loaded machine, …) no app is blamed and the apply is retried.
    if (verdict.error.unchecked === true) {
      const message = `haproxy -c could not check the new config (${keptConfig(previous)}): ${verdict.error.message}`;
      // One that could not run at all (no process to fork, the binary gone) is no config's doing.
      if (c === null || this.o.target.isClosed() || verdict.error.hung !== true)
        throw new ApplyError(`${message}${verdict.error.hung === true ? '' : ' — no app is blamed'}`);
      const hung = await rejectedByHang(change.state, previous, c);
      if (!hung.ok) throw new ApplyError(`${message} — ${hung.error}`);
      return this.leaveOut(c, change, hung.value, previous, false);
    }
    await this.o.files.archiveRejected(files);
    const message = `haproxy -c rejected the new config (${keptConfig(previous)}): ${verdict.error.message}`;
    if (c === null) throw new ApplyError(message);
    const rejected = await rejectedByCheck(change.state, verdict, c);
    if (!rejected.ok) {
      // Without any app HAProxy says mostly what it said of the whole config: said once.
      const why = rejected.error.includes(verdict.error.message) ? '' : `: ${rejected.error}`;
      throw new ApplyError(`${message} — not caused by any app (check global templates and flags)${why}`);
    }
    return this.leaveOut(c, change, rejected.value, previous, false);
  }

  /** Write → reload (or runtime, when leaving apps out made it task churn only) → gate. Restores nothing. */
  private async commit(change: Change): Promise<Step> {
    if (this.runtimeFits(change.plan)) {
      const refused = await this.runtimeUpdate(change);
      if (refused === null) return ok(this.report(change, false));
      this.notStopping(refused);
      change = {
        ...change,
        ...this.rendered(change.state),
        plan: reloadBecause(refused, this.o.logger),
        fallback: refused,
      };
    }
    const reasons = this.reasonsFor(change.plan);
    await this.o.files.write(this.o.files.of(change.state));
    const loaded = await this.o.target.load();
    if (!loaded.ok) return loaded;
    const gated = await this.o.target.gate(change.state, []);
    if (!gated.ok) return err({ message: gated.error, refused: false });
    return ok(this.report({ ...change, plan: { runtimeOps: [], reloadReasons: reasons } }, true));
  }

  /** The reasons of the reload about to happen, as they are (never empty). */
  private reasonsFor(plan: Plan): readonly ReloadReason[] {
    const own: readonly ReloadReason[] =
      plan.reloadReasons.length > 0
        ? plan.reloadReasons
        : [{ kind: 'external-reload', runtimeOps: plan.runtimeOps.length }]; // --command: no runtime API
    return this.o.target.isRunning() ? own : [{ kind: 'not-running' }, ...own];
  }

  private report(change: Change, reloaded: boolean): ApplyReport {
    const base: ApplyReport = reloaded
      ? { reloaded: true, reasons: change.plan.reloadReasons, runtimeOps: 0 }
      : { reloaded: false, reasons: [], runtimeOps: change.plan.runtimeOps.length };
    if (change.rejected.length > 0) return { ...base, applied: change.state, rejected: change.rejected };
    return change.rendered === true ? { ...base, applied: change.state } : base;
  }

  /** An HAProxy this controller starts, and runs now (a --command one says nothing of itself). */
  private isOwnedAndRunning(): boolean {
    return !this.o.target.external && this.o.target.isRunning();
  }

  /**
   * The files of what HAProxy ran last, written before it reads the file again (SIGUSR1, or a restart
   * after a crash) when the file holds something else. The event fast path changes servers at runtime
   * only, so after it the file holds the snapshot it built on; a write behind a runtime change may have
   * failed (a full disk); the file may have been deleted. Loaded as it was, HAProxy took back killed
   * tasks and lost new ones for good, while the controller believed it ran them (found by audits).
   * Whether it wrote them.
   */
  private async restoreLastApplied(current: DesiredState): Promise<boolean> {
    const fast = current.source?.fast === true && this.o.render !== undefined;
    const files = this.lastAppliedFiles(current);
    const disk = await this.o.files.onDisk();
    if (disk !== null && sameFiles(disk, files)) return false;
    const path = this.o.files.configPath;
    if (disk === null)
      this.o.logger.warn(`${path} is gone (deleted while the controller ran); writing the config last applied again`);
    else if (!fast)
      this.o.logger.warn(`${path} is not the config last applied (a write failed, or an edit): writing that one again`);
    await this.o.files.write(files, false);
    return true;
  }

  /** The files of `current`: a fast-path state rendered in full (its config text lacks the servers added at runtime). */
  private lastAppliedFiles(current: DesiredState): Files {
    const fast = current.source?.fast === true && this.o.render !== undefined;
    return this.o.files.of(fast ? this.rendered(current).state : current);
  }

  /**
   * A fast-path state about to be reloaded, rendered in full: its config text is the one HAProxy read
   * before the servers it added at runtime, and a reload of that text would drop them for good (the
   * model would still list them, so no later snapshot would see a difference).
   */
  private rendered(state: DesiredState): { readonly state: DesiredState; readonly rendered?: true } {
    const source = state.source;
    if (source?.fast !== true) return { state };
    if (this.o.render === undefined)
      throw new ApplyError('the runtime API refused a fast-path change; the next snapshot reloads it');
    const rendered = this.o.render(state.model.services);
    return {
      state: {
        model: { services: rendered.served, problems: [...state.model.problems, ...rendered.problems] },
        rendered,
        source: { apps: source.apps, hosts: source.hosts, snapshotModel: source.snapshotModel },
      },
      rendered: true,
    };
  }

  /** The change without `rejected`: HAProxy gets a different config, so its plan is that change's. */
  private leaveOut(
    c: Candidates,
    change: Change,
    rejected: readonly Rejection[],
    previous: DesiredState | null,
    trials: boolean,
  ): Change {
    const state = without(c, change.state, rejected);
    const fallback: ReloadReason | null = trials ? { kind: 'after-trials' } : change.fallback;
    const plan = planChange(
      previous?.model.services ?? null,
      state.model.services,
      previous === null ? undefined : { previous: previous.rendered.config, next: state.rendered.config },
    );
    return {
      state,
      rejected: [...change.rejected, ...rejected],
      fallback,
      plan: plan.reloadReasons.length === 0 && fallback !== null ? { runtimeOps: [], reloadReasons: [fallback] } : plan,
    };
  }

  /** Re-rendering subsets needs `render`; with --skip-config-cleanup nothing is left out. */
  private candidates(): Candidates | null {
    const render = this.o.render;
    if (render === undefined || this.o.leaveOutRejected === false) return null;
    const { files, target } = this.o;
    return {
      subset: (asked, services, problems = []) => {
        const rendered = render(services);
        return {
          model: { services: rendered.served, problems: [...asked.model.problems, ...problems, ...rendered.problems] },
          rendered,
        };
      },
      check: (state) => files.check(files.of(state)),
      run: async (state) => {
        await files.write(files.of(state), false);
        const loaded = await target.load();
        if (!loaded.ok) throw new ApplyError(loaded.error.message);
        const gated = await target.gate(state, []);
        if (!gated.ok) throw new ApplyError(gated.error);
      },
      configText: (state) => files.of(state).config,
      logger: this.o.logger,
    };
  }

  /**
   * A runtime change cut short because the controller stops HAProxy (its socket went away under it)
   * ends there: no reload in its place, which the stop would only undo.
   */
  private notStopping(refused: ReloadReason): void {
    if (this.o.target.isClosed())
      throw new ApplyError(`HAProxy is stopping with the controller: ${formatReason(refused)}; left to the next start`);
  }

  /** Puts the last good files back and has HAProxy read them (not while the controller stops). */
  private async rollBack(before: Files | null): Promise<void> {
    if (before === null) return;
    const stopping = this.o.target.isClosed();
    if (stopping) this.o.logger.info('stopping: the last good HAProxy config goes back on disk for the next start');
    else this.o.logger.warn('restoring the last good HAProxy config');
    await this.o.files.write(before, false);
    if (stopping) return; // HAProxy is left to the stop
    await this.o.target.reloadRestored();
  }
}

function sameFiles(a: Files, b: Files): boolean {
  return a.config === b.config && a.domainMap === b.domainMap && a.appMap === b.appMap;
}

function reloadBecause(reason: ReloadReason, logger: HaproxyLogger): Plan {
  logger.warn(`reloading instead: ${formatReason(reason)}`);
  return { runtimeOps: [], reloadReasons: [reason] };
}
