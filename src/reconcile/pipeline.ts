import {
  BehaviorSubject,
  EMPTY,
  Observable,
  SchedulerLike,
  catchError,
  concatMap,
  defer,
  filter,
  finalize,
  last,
  map,
  merge,
  mergeMap,
  of,
  retry,
  scan,
  share,
  subscribeOn,
  switchMap,
  tap,
  timer,
  Subject,
} from 'rxjs';
import type { StreamItem } from '../marathon/events';
import type { MarathonEvent } from '../marathon/eventTypes';
import { configOutsideServersSteps } from '../model/equality';
import type { Result } from '../result';
import type { Steps } from '../steps';
import type { ApplyPort, ApplyReport, DesiredState } from './applyPort';
import type { AppliedState } from './appliedState';
import { applySink, type ApplyOutcome } from '../streams/applySink';
import { applyStep, StrippedConfigs } from './applyStep';
import { nextDelay, type BackoffOptions } from '../streams/backoff';
import { debounceMaxWait } from '../streams/debounceMaxWait';
import { inSlices, type SliceOptions } from '../streams/inSlices';
import type { FastEvent } from './fastApply';
import { describeApplied, fastPath, isFast, type FastPathDeps } from './fastPath';
import { withoutEndedTasks } from './endedTasks';
import type { ExistingConfigReason, ReloadReason } from './reloadReason';
import type { RuntimeReason } from './runtimeReason';
import { retryLatest } from '../streams/retryLatest';
import { triggers, type Trigger } from './triggers';
import { unbindableRetries, type WhyUnbindable } from './unbindable';

/** Where an unexpected exception was caught: it cost that snapshot (or that moment), never the stream. */
export type FaultStage = 'build' | 'plan' | 'pipeline';

/** What happened, for logs, metrics and the admin API. Times are the scheduler's (epoch ms live). */
export type PipelineEvent =
  | { readonly kind: 'trigger'; readonly trigger: Trigger }
  | { readonly kind: 'fetching' }
  | { readonly kind: 'fetch-failed'; readonly error: string; readonly retryInMs?: number; readonly attempt?: number }
  | { readonly kind: 'snapshot-invalid'; readonly error: string }
  | {
      readonly kind: 'stage-error';
      readonly stage: FaultStage;
      readonly error: string;
      readonly appId: string | null;
      readonly fetchedAt?: number;
      /** build: only that app was left out, the rest of the snapshot goes on. */
      readonly isolated?: boolean;
    }
  | {
      readonly kind: 'unchanged';
      readonly state: DesiredState;
      readonly fetchedAt?: number;
      /** Built by the event fast path from task events, not read from Marathon. */
      readonly fast?: true;
    }
  /** The plan handed to the apply; what was done is the `applied` report (it can differ, see ApplyReport). */
  | {
      readonly kind: 'applying';
      readonly reasons: readonly ReloadReason[];
      readonly runtimeOps: number;
      readonly triggeredAt: number;
      readonly fetchedAt?: number;
      /** Built by the event fast path from task events, not read from Marathon. */
      readonly fast?: true;
    }
  | {
      readonly kind: 'applied';
      readonly report: ApplyReport;
      readonly state: DesiredState | null;
      readonly previous: DesiredState | null;
      readonly fetchedAt?: number;
      /** The runtime changes from `previous` to `state`, grouped, made once for every observer (a plan of 10 000 services each). */
      readonly runtimeReasons: readonly RuntimeReason[];
      /** The files of what HAProxy ran were written at last (a write behind a runtime change had failed). */
      readonly filesWritten?: true;
    }
  | {
      readonly kind: 'apply-failed';
      readonly error: string;
      readonly retryInMs: number;
      /** The config on disk could not be reloaded: HAProxy, after a crash, may not be running at all. */
      readonly configOnDisk?: boolean;
      /** HAProxy runs what was applied; only its config file could not be written (routing is current). */
      readonly filesOnly?: true;
    }
  /**
   * The event fast path: `applied` when a state it built was applied (runtime API only); `refused` when
   * it left an event to the snapshot; `corrected` when a snapshot changed what HAProxy ran after it.
   */
  | {
      readonly kind: 'fast-path';
      /** …and `no-snapshot` when an event that would trigger one changes nothing routing reads. */
      readonly outcome: 'applied' | 'refused' | 'corrected' | 'no-snapshot';
      readonly detail: string;
    };

/** An exception the build caught itself, by leaving out the app it concerns; the rest was built. */
export interface BuildFault {
  readonly error: string;
  readonly appId: string | null;
}

export type Work =
  | {
      readonly kind: 'desired';
      readonly state: DesiredState;
      readonly triggeredAt: number;
      readonly fetchedAt: number;
      /** Built by the event fast path from these events (no snapshot). */
      readonly fast?: { readonly what: string };
    }
  | { readonly kind: 'reload-existing'; readonly why: ExistingConfigReason }
  /** The files of what HAProxy runs, which writing behind a runtime change could not write. */
  | { readonly kind: 'write-files' };

/**
 * What makes the pipeline act besides Marathon: SIGHUP (refetch), SIGUSR1 (reload the config on
 * disk), and HAProxy exiting under us (started again with the config on disk, as SIGUSR1 does).
 */
export type ControlSignal =
  'hup' | 'usr1' | 'haproxy-exited' | 'files-unwritten' | 'master-socket-gone' | 'haproxy-silent';

export interface PipelineDeps<F> {
  /** The Marathon event stream, already kept alive (idle timeout + retry); null in poll mode. */
  readonly items$: Observable<StreamItem> | null;
  /** One value each time the event stream is lost (failed, silent): resyncs come sooner until it connects. */
  readonly streamLost$?: Observable<unknown>;
  readonly signals$: Observable<ControlSignal>;
  /** One value each time a host name the last snapshot lacked is answered: a snapshot is read again for it. */
  readonly hostsAnswered$?: Observable<unknown>;
  /** Fetches a snapshot (apps + resolved hosts). A newer trigger cancels one in flight; a failure is retried with backoff. */
  readonly fetch: () => Observable<F>;
  /**
   * Pure: snapshot → desired state (with the faults it isolated, if any), or a message naming what is
   * wrong with it. Should not throw; if it does, that snapshot is skipped.
   */
  readonly build: (fetched: F) => Steps<Result<DesiredState & { readonly faults?: readonly BuildFault[] }>>;
  readonly haproxy: ApplyPort;
  readonly applied: AppliedState;
  /**
   * Why HAProxy could not bind a frontend's address and port now, or null (haproxy/portHeld.ts).
   * Absent: new listeners are tried blind, and apps rejected for theirs are tried again blind.
   */
  readonly whyUnbindable?: WhyUnbindable;
  /** The event fast path's build (task and health events of known apps); absent: snapshots only. */
  readonly fast?: FastPathDeps['build'];
  /**
   * With `fast`: false for an event that changes nothing routing reads, given the applied state (a
   * scale's api_post_event: its tasks arrive as task events), so it triggers no snapshot. Absent: every event does.
   */
  readonly needsSnapshot?: (event: MarathonEvent, applied: DesiredState | null) => boolean;
  /** With `fast`: a snapshot with the task and health events that arrived since its fetch began applied to it. */
  readonly replay?: (state: DesiredState, events: readonly FastEvent[]) => Steps<DesiredState>;
  readonly report: (e: PipelineEvent) => void;
  readonly scheduler: SchedulerLike;
  /**
   * Whose next turn ends a batch of task and health events for the fast path (batchPerTurn); the
   * main scheduler when absent. In a controller: asap, the microtask after the socket read that
   * brought them, so a burst read at once is one batch and its work goes to the sink before any
   * timer (a snapshot's slice or apply) can come first.
   */
  readonly turnScheduler?: SchedulerLike;
  readonly timing: {
    readonly quietMs: number;
    readonly maxWaitMs: number;
    readonly resyncIntervalMs: number;
    /** Apply retries, fetch retries and restarts after an unforeseen error. */
    readonly backoff: BackoffOptions;
  };
}

/** Builds, replays and strips run in scheduler tasks of about this long, task events in between. */
const SLICE_MS = 20;

/** The most a Marathon event waits of a failed read's backoff, counted from the failure. */
const EVENT_RETRY_MS = 5000;

/** The longest wait between applies while no HAProxy runs (each is a `haproxy -c` and a start). */
const NOT_SERVING_RETRY_MS = 5000;

/** Task ids remembered as ended (endedTasks.ts): far more than end between two snapshots. */
const ENDED_TASKS_KEPT = 10_000;

/** Events kept for replay onto a snapshot under way (a burst longer than a fetch drops the oldest: the next snapshot has them). */
const MAX_REPLAYED = 10_000;
/**
 * And at most this many characters of their strings: each event may be as long as the stream allows
 * (--sse-max-event-bytes), and 30 events of 15 MiB each held 570 MB while /v2/apps was slow (found by
 * an audit). Ordinary task events are a few hundred characters: 10 000 of them fit many times over.
 */
const MAX_REPLAYED_CHARS = 16 * 2 ** 20;

/** About how much an event holds: the lengths of its strings, lists counted by their items. */
function charsOf(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (typeof value !== 'object' || value === null) return 8;
  let n = 0;
  for (const v of Array.isArray(value) ? (value as readonly unknown[]) : Object.values(value)) n += charsOf(v);
  return n;
}

const describeNoSnapshot = (e: MarathonEvent): string =>
  `${e.eventType}${'appId' in e && e.appId !== undefined ? ` of app ${e.appId}` : ''} changes nothing routing reads (a scale: its tasks come as task events)`;
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** The app an error names, when whoever threw it said (an `appId` string property). */
const appOf = (e: unknown): string | null => {
  const id = typeof e === 'object' && e !== null ? (e as { appId?: unknown }).appId : undefined;
  return typeof id === 'string' ? id : null;
};

/**
 * The controller: triggers → debounce (quiet + max wait) → latest-wins snapshot fetch, retried with
 * backoff → pure build → plan → apply sink (one at a time, newest wins, backoff on failure, commit
 * only on success).
 *
 * It cannot die: a failed fetch is retried, an exception thrown by build skips that snapshot (the
 * next trigger tries again; the build may also isolate it to one app and report it as a fault), one thrown by plan falls back to a full reload, one thrown by apply is
 * an apply failure (retried), one thrown by `report` is dropped, and anything else resubscribes the
 * whole pipeline after a backoff (the applied state is kept). Every such fault is reported as a
 * `stage-error`. The returned stream never errors and never completes by itself.
 */
export function pipeline<F>(deps: PipelineDeps<F>): Observable<ApplyOutcome<Work, ApplyReport | 'unchanged'>> {
  const { scheduler, timing, applied } = deps;
  let fastApplies = 0; // fast work being applied: builds and replays wait (see SliceOptions.waitWhile)
  const slicing: SliceOptions = { sliceMs: SLICE_MS, waitWhile: () => fastApplies > 0 };
  const now = (): number => scheduler.now();
  // When a service left out for a cause that may pass (its port held) is due for another try: a
  // snapshot then lets it through. Without one, a quiet cluster tried it again at the next resync,
  // minutes later, though the log said 30 s (found by a fault test).
  const retryAt$ = new BehaviorSubject<number | null>(null);
  // Reporting is for humans: an observer that throws must not stop routing.
  const report = (e: PipelineEvent): void => {
    const at = applied.nextRetryAt();
    if (at !== retryAt$.value) retryAt$.next(at);
    try {
      deps.report(e);
    } catch {
      /* dropped on purpose */
    }
  };
  const fault = (stage: FaultStage, e: unknown): void =>
    report({ kind: 'stage-error', stage, error: message(e), appId: appOf(e) });

  // When the last trigger came, and when the fetch of the newest snapshot applied began: a snapshot
  // is under way (waiting out the quiet, read, built, or waiting in the sink) while the first is later.
  let lastTriggerAt = Number.NEGATIVE_INFINITY;
  let appliedFetchedAt = Number.NEGATIVE_INFINITY;
  /**
   * Whether an event needs no snapshot (deps.needsSnapshot); when deciding throws, it gets one. So
   * does any while a snapshot is under way: it may bring back what the event undoes (a label changed
   * and changed back), and the applied state the event is compared with is about to be replaced (found
   * by an audit: the stale snapshot stayed until the next resync).
   */
  const needsNoSnapshot = (event: MarathonEvent): boolean => {
    if (lastTriggerAt >= appliedFetchedAt) return false;
    try {
      return deps.needsSnapshot?.(event, applied.current) === false;
    } catch (e) {
      fault('build', e);
      return false;
    }
  };

  const assembled = defer(() => {
    const items$ = deps.items$?.pipe(share()) ?? EMPTY;
    const signals$ = deps.signals$.pipe(share());

    const trigger$ = triggers({
      events$: items$.pipe(
        mergeMap((i) => {
          if (i.kind !== 'event') return EMPTY;
          if (deps.fast !== undefined && needsNoSnapshot(i.event)) {
            report({ kind: 'fast-path', outcome: 'no-snapshot', detail: describeNoSnapshot(i.event) });
            return EMPTY;
          }
          return of({ eventType: i.event.eventType });
        }),
      ),
      // Connected at Marathon's first sign after the headers (a heartbeat, an event), as /status counts
      // it: a stream that answers and then sends nothing usable ended the 30 s resyncs of a lost one,
      // and changes waited for its 60 s silence (found by a fault test).
      connected$: items$.pipe(
        scan(
          (was: { readonly answered: boolean; readonly alive: boolean }, i) => ({
            answered: i.kind === 'connected',
            alive: was.answered && i.kind !== 'connected',
          }),
          { answered: false, alive: false },
        ),
        filter((s) => s.alive),
      ),
      signals$: signals$.pipe(filter((s): s is 'hup' => s === 'hup')),
      retries$: merge(
        retryAt$.pipe(switchMap((at) => (at === null ? EMPTY : timer(Math.max(0, at - now()), scheduler)))),
        deps.hostsAnswered$ ?? EMPTY,
      ),
      ...(deps.streamLost$ === undefined ? {} : { lost$: deps.streamLost$ }),
      resyncIntervalMs: timing.resyncIntervalMs,
      scheduler,
    }).pipe(
      tap((trigger) => {
        lastTriggerAt = now();
        report({ kind: 'trigger', trigger });
      }),
    );

    let lastInvalid: string | null = null; // bad input is reported once, not on every trigger
    // Task and health events by arrival, for the snapshots fetched meanwhile (see `replay`).
    let recent: { readonly at: number; readonly seq: number; readonly event: FastEvent; readonly chars: number }[] = [];
    let recentChars = 0;
    const keepRecent = (kept: typeof recent): void => {
      recent = kept;
      recentChars = kept.reduce((n, r) => n + r.chars, 0);
    };
    let seq = 0; // task and health events so far
    // The last event each state handed to the sink takes into account (see `replayed`).
    const upTo = new WeakMap<DesiredState, number>();
    // An operator's SIGHUP, or the event stream attached again, since the last fetch began: it does
    // not wait out a failed read's backoff.
    let askedToRead = false;
    // A Marathon event since the last fetch began: its event bus is up, so its REST API likely is too.
    let eventSinceRead = false;
    const fetchOnce = (triggeredAt: number): Observable<{ fetched: F; triggeredAt: number; fetchedAt: number }> =>
      defer(() => {
        const fetchedAt = now();
        askedToRead = false; // this read answers it
        eventSinceRead = false;
        report({ kind: 'fetching' });
        return deps.fetch().pipe(
          last(),
          map((fetched) => ({ fetched, triggeredAt, fetchedAt })),
        );
      });

    const desired$: Observable<Work> = trigger$.pipe(
      map((trigger) => {
        // An operator's ask, or the event stream attached again (Marathon answers: after an outage the
        // running backoff, up to --max-backoff, left routing behind a Marathon that was back).
        if (trigger.kind === 'signal' || trigger.kind === 'connected') askedToRead = true;
        if (trigger.kind === 'event') eventSinceRead = true;
        return now();
      }),
      debounceMaxWait(timing.quietMs, timing.maxWaitMs, scheduler),
      retryLatest(fetchOnce, {
        backoff: timing.backoff,
        scheduler,
        cutsBackoff: () => {
          const asked = askedToRead;
          askedToRead = false;
          return asked;
        },
        // An event after a failed read: the read is tried again within EVENT_RETRY_MS of that failure,
        // not after the rest of a backoff of up to --max-backoff (an audit: an app created once Marathon
        // answered again waited 245 s; marathon-lb read again at the next event). At most one read per
        // EVENT_RETRY_MS for a Marathon whose events flow while its REST API fails.
        waitsAtMost: () => (eventSinceRead ? EVENT_RETRY_MS : undefined),
        onFailure: (f) =>
          report({ kind: 'fetch-failed', error: message(f.error), retryInMs: f.retryInMs, attempt: f.attempt }),
      }),
      // The build in slices, not in the task that read (and decoded) the answer: at 10 000 apps each
      // takes a few hundred ms, and task events that come meanwhile go through in between. One at a
      // time: builds share the live caches.
      concatMap(({ fetched, triggeredAt, fetchedAt }) =>
        inSlices(() => deps.build(fetched), scheduler, slicing).pipe(
          catchError((e: unknown) => {
            report({ kind: 'stage-error', stage: 'build', error: message(e), appId: appOf(e), fetchedAt });
            return EMPTY;
          }),
          mergeMap((built) => built$(built, triggeredAt, fetchedAt)),
          concatMap((work) =>
            work.kind === 'desired' && deps.replay !== undefined ? withEvents(work, deps.replay, () => seq) : of(work),
          ),
        ),
      ),
    );
    const built$ = (
      built: Result<DesiredState & { readonly faults?: readonly BuildFault[] }>,
      triggeredAt: number,
      fetchedAt: number,
    ): Observable<Work> => {
      if (!built.ok) {
        if (built.error !== lastInvalid) report({ kind: 'snapshot-invalid', error: built.error });
        lastInvalid = built.error;
        return EMPTY;
      }
      lastInvalid = null;
      const { model, rendered, source, faults } = built.value;
      for (const f of faults ?? [])
        report({ kind: 'stage-error', stage: 'build', error: f.error, appId: f.appId, fetchedAt, isolated: true });
      return of<Work>({
        kind: 'desired',
        state: { model, rendered, ...(source ? { source } : {}) },
        triggeredAt,
        fetchedAt,
      });
    };
    const usr1$: Observable<Work> = signals$.pipe(
      filter((s) => s === 'usr1' || s === 'haproxy-exited' || s === 'master-socket-gone' || s === 'haproxy-silent'),
      map((s): Work => ({
        kind: 'reload-existing',
        why: { kind: s === 'usr1' ? 'sigusr1' : s === 'haproxy-exited' ? 'haproxy-restarted' : s },
      })),
      // Owed from its arrival: newer work that took its place in the sink and kept failing (a full disk)
      // left HAProxy down after a crash until the disk was freed (helper 76).
      tap((work) => (owedReload = work)),
    );
    // The sink keeps only the newest work: a SIGUSR1 (HAProxy restarted after a crash takes that path
    // too) that comes while a snapshot waits for its retry (a full disk, a read-only directory) dropped
    // it, and HAProxy served the older config until some later trigger. So once the config
    // on disk is reloaded, the newest snapshot is given again if it has not been applied (only then:
    // given again, it would take the place of a SIGUSR1 that came meanwhile).
    let newestSnapshot: Work | undefined;
    let newestApplied = false;
    // And the other way round: a reload of the config on disk that failed (HAProxy could not be started
    // again after a crash) is owed until one succeeds or an apply reloads HAProxy. A snapshot that took
    // its place in the sink and changed nothing left HAProxy down for good.
    let owedReload: Work | undefined;
    // So is a write of the files HAProxy runs that failed (a full disk): with nothing else to apply, the
    // file stayed older than HAProxy's servers for good, and a SIGUSR1 reloaded it (helper 72).
    const writeFiles: Work = { kind: 'write-files' };
    let owedWrite = false;
    const unwritten$: Observable<Work> = signals$.pipe(
      filter((s) => s === 'files-unwritten'),
      map(() => writeFiles),
    );
    const again$ = new Subject<Work>();

    const fast = deps.fast;
    const fast$: Observable<Work> =
      fast === undefined
        ? EMPTY
        : items$.pipe(
            mergeMap((i) => (i.kind === 'event' ? of(i.event) : EMPTY)),
            withoutEndedTasks(ENDED_TASKS_KEPT, (event, reason) =>
              report({ kind: 'fast-path', outcome: 'refused', detail: `${event.eventType}: ${reason}` }),
            ),
            tap((event) => {
              if (!isFast(event) || deps.replay === undefined) return;
              const chars = charsOf(event);
              recent.push({ at: now(), seq: ++seq, event, chars });
              recentChars += chars;
              while (recent.length > MAX_REPLAYED || recentChars > MAX_REPLAYED_CHARS)
                recentChars -= recent.shift()!.chars;
            }),
            fastPath({
              current: () => applied.current,
              build: fast,
              now,
              scheduler: deps.turnScheduler ?? scheduler,
              onRefused: (what, reason) =>
                report({ kind: 'fast-path', outcome: 'refused', detail: `${what}: ${reason}` }),
              onError: (e) => fault('build', e),
            }),
          );

    const stripped = new StrippedConfigs();
    const step = applyStep({ haproxy: deps.haproxy, applied, report, fault, now, stripped });
    /**
     * A snapshot without the services HAProxy rejected, its config rendered again in slices: ~80 ms
     * at 10 000 apps in one task, for every snapshot while any is rejected (an app's port held by
     * another process, say), which held the scale-ups of other apps (bench:scale p99 128 → 300–500 ms).
     * The step then takes it as it is (AppliedState.withoutRejectedSteps).
     */
    const leaveOutRejectedFirst = (work: Work): Observable<Work> => {
      if (work.kind !== 'desired' || work.fast !== undefined) return of(work);
      return stillHeld(work.state).pipe(
        concatMap((held) => inSlices(() => applied.withoutRejectedSteps(work.state, now(), held), scheduler, slicing)),
        map((state) => {
          const events = upTo.get(work.state);
          if (state !== work.state && events !== undefined) upTo.set(state, events);
          return { ...work, state };
        }),
        catchError(() => of(work)), // the step leaves them out itself
      );
    };
    /** The backends due another try whose port still cannot be bound; new listeners that cannot be are left out (unbindable.ts). */
    const stillHeld = (state: DesiredState): Observable<ReadonlySet<string>> => {
      const why = deps.whyUnbindable;
      if (why === undefined) return of(new Set<string>());
      return defer(() => unbindableRetries(applied, state, why, now));
    };
    /** A snapshot's config stripped of its server lines in slices, for its plan: ~60 ms at 10 000 apps in one task. */
    const stripFirst = (work: Work): Observable<Work> => {
      if (work.kind !== 'desired' || work.fast !== undefined) return of(work);
      const config = work.state.rendered.config;
      if (stripped.has(config)) return of(work);
      return inSlices(() => configOutsideServersSteps(config), scheduler, slicing).pipe(
        map((text) => {
          stripped.remember(config, text);
          return work;
        }),
        catchError(() => of(work)), // the plan strips it itself
      );
    };
    /**
     * What a work stands for when its turn comes in the sink. A snapshot: the events since its fetch
     * began that it does not take into account yet applied to it (see `withEvents`; in the build
     * stage it took those until then). Fast work: built on what HAProxy runs now, from the events it
     * does not take into account yet — not on the state its event found. That one may have been
     * overtaken meanwhile: a snapshot applied while this work waited (its corrections would be
     * undone), or fast work dropped from the sink for a newer one (whose base lacked its events):
     * applied as made, either took servers back.
     */
    const replayed = (work: Work): Observable<Work> => {
      if (work.kind !== 'desired' || deps.replay === undefined) return of(work);
      if (work.fast !== undefined) return of(rebased(work));
      keepRecent(recent.filter((r) => r.at >= work.fetchedAt)); // later fetches begin later still
      // Only the events HAProxy already runs (those of the fast work applied): the fast work of later
      // ones waits in the sink, and is rebuilt on this snapshot when its turn comes.
      const current = applied.current;
      const running = current === null ? undefined : upTo.get(current);
      return withEvents(work, deps.replay, () => running ?? seq);
    };
    /**
     * A snapshot with the task and health events that came since its fetch began, up to event
     * `until()`, and that it does not take into account yet, applied to it again (`replay`), in
     * slices. At 10 000 apps a fetch takes seconds and a replay renders the whole config: the build
     * stage replays, so that the sink, which holds the fast path's work meanwhile, rarely has to.
     */
    const withEvents = (
      work: Work & { kind: 'desired' },
      replay: NonNullable<PipelineDeps<F>['replay']>,
      until: () => number,
    ): Observable<Work> => {
      const from = upTo.get(work.state) ?? 0;
      return inSlices(
        function* () {
          const last = Math.max(from, until()); // later events: their fast work (or the next snapshot)
          const events = recent
            .filter((r) => r.seq > from && r.seq <= last && r.at >= work.fetchedAt)
            .map((r) => r.event);
          const state = events.length > 0 ? yield* replay(work.state, events) : work.state;
          upTo.set(state, last);
          return { ...work, state };
        },
        scheduler,
        slicing,
      ).pipe(
        catchError((e: unknown) => {
          fault('build', e); // the snapshot as it came, then: the next one has those events
          if (!upTo.has(work.state)) upTo.set(work.state, seq);
          return of(work);
        }),
      );
    };
    const rebased = (work: Work & { kind: 'desired' }): Work => {
      const current = applied.current;
      const from = current === null ? undefined : upTo.get(current);
      if (current === null || from === undefined || fast === undefined) return work;
      try {
        const events = recent.filter((r) => r.seq > from).map((r) => r.event);
        if (events.length === 0) {
          upTo.set(current, seq);
          return { ...work, state: current };
        }
        // More events than the work was built from (those of works the sink dropped for it, and later
        // ones): what they make may be refused where the work's own were not (a burst too big for the
        // runtime API). Said as the fast path says it: those events are the snapshot's to apply.
        const built = fast(events, current);
        for (const [app, reason] of built.refused)
          report({ kind: 'fast-path', outcome: 'refused', detail: `events of app ${app}: ${reason}` });
        const state = built.state ?? current;
        upTo.set(state, seq);
        return { ...work, state, fast: { what: describeApplied(events, built.refused) } };
      } catch (e) {
        fault('build', e);
        return work;
      }
    };
    const snapshots$ = desired$.pipe(
      tap((work) => {
        newestSnapshot = work;
        newestApplied = false;
      }),
    );
    return merge(snapshots$, fast$, usr1$, unwritten$, again$).pipe(
      applySink({
        // In a task of its own too (replay, plan): not in the one that built a snapshot.
        apply: (work: Work) => {
          let counted = false; // as fast work being applied
          return defer(() => {
            counted = work.kind === 'desired' && work.fast !== undefined;
            if (counted) fastApplies++;
            return replayed(work);
          }).pipe(
            subscribeOn(scheduler),
            concatMap(leaveOutRejectedFirst),
            concatMap(stripFirst),
            concatMap((w) => step(w)),
            finalize(() => {
              if (counted) fastApplies--;
            }),
          );
        },
        backoff: timing.backoff,
        scheduler,
        // HAProxy restarted after a crash (or an operator's SIGUSR1) does not wait out a failed change's
        // backoff: HAProxy serves nothing meanwhile (7 s in an audit, against ~0.5 s otherwise).
        urgent: (work) => work.kind === 'reload-existing' || work.kind === 'write-files',
        // Task churn (fast work, built on what HAProxy runs, runtime API only) does not wait behind a
        // change whose reload keeps failing: killed tasks stayed in rotation for the whole backoff.
        beside: (work) => work.kind === 'desired' && work.fast !== undefined,
        // With no HAProxy running, every route is down until an apply succeeds: retried often, not
        // after a backoff grown to --max-backoff (a fix waited 52 s in a fault test).
        maxRetryInMs: () => (deps.haproxy.serving?.() === false ? NOT_SERVING_RETRY_MS : undefined),
      }),
      tap((outcome) => {
        if (!outcome.ok) {
          const configOnDisk = outcome.model.kind === 'reload-existing';
          report({
            kind: 'apply-failed',
            error: message(outcome.error),
            retryInMs: outcome.retryInMs,
            ...(configOnDisk ? { configOnDisk } : {}),
            ...(outcome.model.kind === 'write-files' ? { filesOnly: true as const } : {}),
          });
          if (configOnDisk) owedReload = outcome.model;
          if (outcome.model.kind === 'write-files') owedWrite = true;
          // Failing work does not hold back a reload of the config on disk it took the place of.
          else if (owedReload !== undefined && outcome.model !== owedReload) again$.next(owedReload);
          return;
        }
        if (outcome.model.kind === 'write-files') owedWrite = false;
        if (outcome.model.kind === 'reload-existing' || (outcome.result !== 'unchanged' && outcome.result.reloaded))
          owedReload = undefined;
        const work = outcome.model;
        if (work.kind === 'desired' && work.fast === undefined)
          appliedFetchedAt = Math.max(appliedFetchedAt, work.fetchedAt);
        if (outcome.model === newestSnapshot) newestApplied = true;
        // Urgent work took the snapshot's place in the sink: given again (a full disk freed, the files
        // written at last, the change had waited for the next resync).
        else if (
          (outcome.model.kind === 'reload-existing' || outcome.model.kind === 'write-files') &&
          newestSnapshot !== undefined &&
          !newestApplied
        )
          again$.next(newestSnapshot);
        if (owedReload !== undefined) again$.next(owedReload);
        if (owedWrite) again$.next(writeFiles);
      }),
    );
  });

  // Last resort for what nothing above foresaw: start over (a fresh startup trigger refetches).
  return assembled.pipe(
    retry({
      resetOnSuccess: true,
      delay: (error: unknown, count: number) => {
        fault('pipeline', error);
        return timer(nextDelay(count - 1, timing.backoff), scheduler);
      },
    }),
  );
}
