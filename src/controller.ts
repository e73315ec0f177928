import { isIPv6 } from './model/haproxyText';
import { Observable, SchedulerLike, Subject, defer, from, map, mergeMap, tap } from 'rxjs';
import type { MarathonClient } from './marathon/client';
import { READINESS_EVENT_TYPES } from './marathon/eventTypes';
import { eventStream, type StreamItem } from './marathon/events';
import { AppsBodyDecoder } from './marathon/appsBody';
import { HostResolver } from './marathon/hostResolver';
import { ServerMemo } from './model/serverIds';
import { describeProblem } from './model/types';
import { printable } from './printable';
import type { Logger } from './log';
import { portHoldersOf, RenderCache, renderConfigSteps, type PortHolders } from './render/render';
import type { TemplateSet } from './render/templates';
import { AppliedState } from './reconcile/appliedState';
import { whyUnbindable } from './haproxy/portHeld';
import { keptIdsOf, type KeptIds } from './model/keptIds';
import type { ApplyPort } from './reconcile/applyPort';
import { HealthMemory } from './reconcile/healthMemory';
import { idleTimeout, IdleTimeoutError } from './streams/idleTimeout';
import { pipeline, type ControlSignal, type PipelineEvent } from './reconcile/pipeline';
import { formatReason } from './reconcile/reloadReason';
import { retryBackoff } from './streams/retryBackoff';
import { fastBuilder, fastReplay, snapshotBuilder, type Fetched } from './snapshotBuilder';
import { postChangesRouting } from './reconcile/postedRouting';
import type { MarathonEvent } from './marathon/eventTypes';
import type { DesiredState } from './reconcile/applyPort';
import type { ControllerSettings } from './wiring/parts';

/** Left-out warnings logged for one state: one hostile snapshot can hold 100 000 problems. */
const WARNED_PER_STATE = 100;
export interface ControllerDeps {
  /** What the flags say, as wiring/parts.ts' controllerSettings maps them. */
  readonly settings: ControllerSettings;
  readonly client: MarathonClient;
  readonly templates: TemplateSet;
  readonly haproxy: ApplyPort;
  readonly signals$: Observable<ControlSignal>;
  readonly logger: Logger;
  readonly scheduler: SchedulerLike;
  /** Ends batches of task events for the fast path (PipelineDeps.turnScheduler); `scheduler` when absent. */
  readonly turnScheduler?: SchedulerLike;
  readonly random: () => number;
  /** Extra observers of what the pipeline does (metrics, admin status). */
  readonly observers?: readonly ((e: PipelineEvent) => void)[];
  /** Called on every (re)connection of the event stream. */
  readonly onStreamConnected?: () => void;
  /** Called with every item of the event stream (connected, heartbeat, event), for the admin API's view of Marathon. */
  readonly onStreamItem?: (item: StreamItem) => void;
  /** Called when the event stream is lost (before a reconnection is tried). */
  readonly onStreamLost?: (error: string) => void;
  /** Who served each service port in the config found at start, until the first apply (render.ts). */
  readonly startingPortHolders?: PortHolders;
}

/** How long an event stream must stay up to count as healthy (and reset the reconnect backoff). */
const STREAM_HEALTHY_AFTER_MS = 30_000;

/** How a failure ends in --command mode without --sse: the process exits 1 after its one pass, not retried later. */
const ONE_PASS_ENDS = '; exiting with 1 (one pass: --command without --sse)';
/**
 * An apply with neither reload nor runtime operation: HAProxy already runs these servers (the event
 * fast path changed them at runtime, which writes no file), and the snapshot writes the config file.
 */
const FILE_ONLY_APPLYING = 'updating the config file only: HAProxy already runs these servers';
/**
 * The start of a failure logged in full before, for its repeats: "same reason as above" could follow
 * another failure logged in between (a read's repeat after an apply's).
 */
/**
 * A repeated error's cause in a repeat line: its start (what failed) and its end (why), the middle cut.
 * The start alone was mostly the error's fixed prefix (an audit: `haproxy -c could not check the new
 * config (…): cannot run /non…`), so a log tail showed no cause.
 */
const brief = (error: string): string =>
  error.length <= 200 ? error : `${error.slice(0, 80)}…${error.slice(error.length - 119)}`;

/** The config file is written behind (configFiles.ts writeBehind): a failed write is logged after this line, on its own. */
/** The first apply found the adopted HAProxy running its files already (servedMark.ts). */
const KEPT_ADOPTED = 'HAProxy kept as adopted: it runs this config already, nothing reloaded';

export const FILE_ONLY_APPLIED =
  'HAProxy already ran these servers: nothing reloaded, the config file is written behind';

/** Assembles the Marathon side (events or polling, snapshots) and the pipeline into one stream. */
export function createController(deps: ControllerDeps): {
  run$: Observable<unknown>;
  applied: AppliedState;
  /** Host-name lookups still running or queued (the process cannot cancel them). */
  lookupsPending: () => boolean;
} {
  const { logger, scheduler } = deps;
  const s = deps.settings;
  // Re-renders a snapshot without the apps HAProxy rejected (see AppliedState.withoutRejected).
  const applied = new AppliedState((services) => renderConfigSteps(services, deps.templates, renderOpts, renderCache));
  const health = new HealthMemory(s.cacheCapacity);
  const servers = new ServerMemo();
  const renderCache = new RenderCache();
  const { model: modelOpts, render: renderOpts, stream } = s;
  // --respect-readiness-checks: readiness is only in snapshots (embed=apps.readiness); deployment events trigger them.
  const readiness = modelOpts.respectReadinessChecks === true;

  // A read of the apps answered: Marathon is back, and the event stream need not wait out its reconnect backoff.
  const marathonAnswered = new Subject<void>();
  // The event stream lost: until it connects again, Marathon is re-read sooner (triggers.ts).
  const streamLost = new Subject<void>();
  // Failures of the event stream in a row with the same message: said in full once, then counted
  // (a Marathon answering 404 there wrote two 230-character lines every few seconds).
  let streamFailure = { message: '', inRow: 0 };
  const items$: Observable<StreamItem> | null = stream
    ? defer(() =>
        eventStream({
          source: deps.client,
          maxEventBytes: stream.maxEventBytes,
          announce: streamFailure.inRow === 0,
          ...(readiness ? { eventTypes: READINESS_EVENT_TYPES } : {}),
        }),
      ).pipe(
        idleTimeout<StreamItem>(stream.idleTimeoutMs, scheduler),
        retryBackoff<StreamItem>({
          initialMs: Math.min(3000, stream.maxBackoffMs),
          maxMs: stream.maxBackoffMs,
          factor: 1.5,
          jitter: deps.random,
          scheduler,
          // A stream must also last a while to reset the backoff: one that connects and is dropped at
          // once (say, for a line over --sse-max-event-bytes) backs off further each time.
          resetAfterMs: STREAM_HEALTHY_AFTER_MS,
          // After an outage the wait could have grown to --max-backoff: events would stay unread that
          // long after a read found Marathon back. Only a stream that could not connect is cut short.
          retryNow$: marathonAnswered,
          onRetry: ({ error, delayMs, cutByRetryNow }) => {
            deps.onStreamLost?.(error instanceof Error ? error.message : String(error));
            streamLost.next();
            const when = `reconnecting in ${(delayMs / 1000).toFixed(1)}s${cutByRetryNow ? ', or once a read of the apps succeeds' : ''}`;
            const message =
              error instanceof IdleTimeoutError
                ? `event stream silent for ${stream.idleTimeoutSeconds}s`
                : (error as Error).message.replace(/^(?!event stream)/, 'event stream: ');
            streamFailure = { message, inRow: message === streamFailure.message ? streamFailure.inRow + 1 : 1 };
            logger.warn(
              streamFailure.inRow === 1
                ? `${message}: ${when}`
                : `event stream failing again (${streamFailure.inRow} times in a row, as above): ${when}`,
            );
          },
        }),
        tap((i) => {
          deps.onStreamItem?.(i);
          if (i.kind !== 'connected') {
            streamFailure = { message: '', inRow: 0 }; // Marathon's first sign: failures counted anew
            return;
          }
          logger.debug(`event stream connected to ${deps.client.redact(i.url)}`);
          deps.onStreamConnected?.();
        }),
      )
    : null;

  // A name a snapshot went without, answered later (a slow name server): Marathon is read again for it.
  const hostsAnswered = new Subject<void>();
  // marathon-lb's ip_cache; bounded in time
  const hostResolver = new HostResolver({ capacity: s.cacheCapacity, onLateAnswer: () => hostsAnswered.next() });
  const apps = new AppsBodyDecoder(); // an app unchanged since the last answer is not parsed again
  const fetch = (): Observable<Fetched> =>
    new Observable<unknown>((subscriber) => {
      // Unsubscribed (a shutdown, a newer trigger's fetch): the request is cancelled, not left to run.
      const cancel = new AbortController();
      deps.client.getApps({ readiness, body: apps, signal: cancel.signal }).then(
        (body) => {
          marathonAnswered.next();
          subscriber.next(body);
          subscriber.complete();
        },
        (e: unknown) => subscriber.error(e),
      );
      return () => cancel.abort();
    }).pipe(
      mergeMap((body) =>
        from(hostResolver.resolve(body, s.requestTimeoutMs)).pipe(
          tap((hosts) => warnUnresolvedHosts(body, hosts)),
          map((hosts) => ({ body, hosts })),
        ),
      ),
    );

  /** Task hosts without an address, each warned once while it lasts (marathon-lb warns at every update). */
  let warnedHosts: ReadonlySet<string> = new Set<string>();
  const warnUnresolvedHosts = (body: unknown, hosts: ReadonlyMap<string, string>): void => {
    const now = hostResolver.unresolvedTaskHosts(body, hosts);
    const fresh = now.filter((h) => !warnedHosts.has(h));
    for (const h of fresh.slice(0, WARNED_PER_STATE))
      logger.warn(
        `cannot resolve task host ${printable(h)} to an IPv4 address: its tasks are left out${isIPv6(h) ? '' : ' until it resolves'}`,
      );
    if (fresh.length > WARNED_PER_STATE)
      logger.warn(`${fresh.length - WARNED_PER_STATE} more task hosts do not resolve: their tasks are left out`);
    warnedHosts = new Set(now);
  };

  // Servers that stay keep the ids HAProxy runs them with (src/model/keptIds.ts): no reload for an id moved.
  const keptIds = (): KeptIds | undefined => {
    const current = applied.current;
    return current === null ? undefined : keptIdsOf(current.model.services);
  };
  // A port two apps ask for stays with the one HAProxy serves it for (render.ts, PortHolders).
  const portHolders = (): PortHolders | undefined => {
    const current = applied.current;
    return current === null ? deps.startingPortHolders : portHoldersOf(current.model.services);
  };
  const buildDeps = {
    templates: deps.templates,
    modelOpts,
    renderOpts,
    health,
    servers,
    renderCache,
    keptIds,
    portHolders,
  };
  const build = snapshotBuilder(buildDeps);
  const fast = s.fastPath ? fastBuilder(buildDeps) : undefined;
  const replay = fast === undefined ? undefined : fastReplay(buildDeps);
  const needsSnapshot = (event: MarathonEvent, current: DesiredState | null): boolean =>
    event.type !== 'api_post_event' || postChangesRouting(event, current?.source?.apps, readiness);

  /**
   * HAProxy told to route nothing where it routed services: applied, as marathon-lb applies it (the
   * last app may really be gone), but said aloud, since a Marathon that lost its state answers so too.
   */
  const warnServicesGone = (state: DesiredState | null, previous: DesiredState | null): void => {
    const before = previous?.model.services.length ?? 0;
    if (state !== null && state.model.services.length > 0) return warnMostRemoved(state, previous);
    if (state === null || before === 0) return;
    const apps = state.source?.apps.length;
    const leftOut = state.model.problems.length;
    logger.warn(
      `HAProxy now routes no service: the ${before} service(s) it served are gone from Marathon's answer` +
        (apps === 0
          ? leftOut === 0
            ? ', which lists no apps at all'
            : `, which lists no app routing can use (${leftOut} problem(s) left apps out: see /status)`
          : ` (${apps ?? 'its'} apps routed none)`),
    );
  };

  /**
   * Half or more of four or more services gone in one apply: Marathon's answer may have been short
   * (an audit: half the apps missing from one answer took their routes until the next snapshot, and
   * nothing was said). Applied all the same, as marathon-lb does: Marathon is the truth.
   */
  const warnMostRemoved = (state: DesiredState, previous: DesiredState | null): void => {
    const before = previous?.model.services ?? [];
    if (before.length < 4) return;
    const now = new Set(state.model.services.map((svc) => svc.backend));
    const gone = before.filter((svc) => !now.has(svc.backend)).length;
    if (gone * 2 < before.length) return;
    logger.warn(
      `HAProxy now routes ${state.model.services.length} service(s): ${gone} of the ${before.length} it served are gone at once from Marathon's answer (${state.model.problems.length} problem(s) left apps out: see /status)`,
    );
  };

  /**
   * The problems of the last state built, each warned once while it lasts (again if it comes back);
   * at most WARNED_PER_STATE lines per state, then one line with the count (/status lists them).
   */
  let warnedProblems: ReadonlySet<string> = new Set<string>();
  const warnNewProblems = (state: DesiredState | null): void => {
    if (state === null) return;
    const now = new Set<string>();
    let fresh = 0;
    for (const p of state.model.problems) {
      const line = describeProblem(p);
      if (!warnedProblems.has(line) && !now.has(line) && ++fresh <= WARNED_PER_STATE) logger.warn(`left out ${line}`);
      now.add(line);
    }
    if (fresh > WARNED_PER_STATE)
      logger.warn(`left out ${fresh - WARNED_PER_STATE} more service port(s) or app(s) not listed here (see /status)`);
    warnedProblems = now;
  };
  let lastApplyError: { message: string; repeats: number } | null = null; // the same failure is logged in full once
  let lastFetchError: { message: string; repeats: number } | null = null;
  /** A snapshot read after failed ones is said at info: at that level, the last word was "retrying in …". */
  let failedReads = 0; // since the last good read
  const readsRecovered = (fast: true | undefined): void => {
    if (fast === true) return;
    lastFetchError = null;
    if (failedReads > 0) logger.info(`read the apps from Marathon again after ${failedReads} failed read(s)`);
    failedReads = 0;
  };
  const report = (e: PipelineEvent): void => {
    switch (e.kind) {
      case 'trigger':
        // An event is logged once, as it is received (marathon/events.ts): a scale of 1 000 tasks is
        // 1 000 lines, not 2 000.
        if (e.trigger.kind !== 'event') logger.debug(`trigger: ${e.trigger.kind}`);
        break;
      case 'fetching':
        break;
      case 'fetch-failed': {
        failedReads++;
        const retry = s.onePass
          ? ONE_PASS_ENDS
          : e.retryInMs === undefined
            ? ''
            : `; retrying in ${(e.retryInMs / 1000).toFixed(1)}s`;
        if (lastFetchError?.message === e.error) {
          lastFetchError.repeats++;
          logger.warn(
            `cannot fetch apps from Marathon again (${lastFetchError.repeats + 1} times in a row: ${brief(e.error)})${retry}`,
          );
        } else {
          lastFetchError = { message: e.error, repeats: 0 };
          // Before the first apply there is no config to keep: HAProxy is not started yet.
          const keeping = applied.current === null ? 'nothing applied yet' : 'keeping the last applied config';
          logger.error(`cannot fetch apps from Marathon: ${e.error}; ${keeping}${retry}`);
        }
        break;
      }
      case 'snapshot-invalid':
        lastFetchError = null;
        logger.error(`${e.error}; keeping the last applied config`);
        break;
      case 'stage-error': {
        const what =
          e.stage === 'plan'
            ? 'planning the runtime changes failed; reloading HAProxy with the new config instead'
            : e.stage === 'pipeline'
              ? 'the controller pipeline failed; restarting it after a backoff'
              : e.isolated === true
                ? 'building its config failed; left it out and applied the others'
                : 'building the config from this Marathon snapshot failed; keeping the last applied config until the next change';
        logger.error(`internal error${e.appId === null ? '' : ` (app ${e.appId})`}: ${what}: ${e.error}`);
        break;
      }
      case 'unchanged':
        readsRecovered(e.fast);
        logger.debug('config unchanged: nothing to apply');
        // A new app left out changes no config: its warning is due all the same.
        warnNewProblems(e.state);
        break;
      case 'applying':
        readsRecovered(e.fast);
        logger.info(
          e.reasons.length > 0
            ? `reloading HAProxy: ${e.reasons.map(formatReason).join('; ')}`
            : s.commandMode
              ? `reloading HAProxy with --command: ${e.runtimeOps} server change(s) (no runtime API in this mode)`
              : e.runtimeOps === 0
                ? FILE_ONLY_APPLYING
                : `updating HAProxy through the runtime API: ${e.runtimeOps} operation(s)`,
        );
        break;
      case 'applied':
        lastApplyError = null;
        lastFetchError = null;
        // The report, not the plan: the apply may have reloaded instead, or left apps out (see ApplyReport).
        logger.info(
          e.filesWritten === true
            ? 'wrote the config file at last: HAProxy already ran its servers (the earlier write had failed)'
            : e.report.keptAdopted === true
              ? KEPT_ADOPTED
              : e.report.reloaded
                ? `HAProxy reloaded and healthy: ${e.report.reasons.map(formatReason).join('; ')}`
                : e.report.runtimeOps === 0
                  ? FILE_ONLY_APPLIED
                  : `HAProxy updated without reload (${e.report.runtimeOps} runtime operation(s))`,
        );
        warnNewProblems(e.state);
        warnServicesGone(e.state, e.previous);
        break;
      case 'fast-path':
        if (e.outcome === 'corrected') logger.warn(`fast path corrected by the snapshot: ${e.detail}`);
        else logger.debug(`fast path ${e.outcome}: ${e.detail}`);
        break;
      case 'apply-failed': {
        const retry = s.onePass
          ? ONE_PASS_ENDS
          : `; retrying in ${(e.retryInMs / 1000).toFixed(1)}s with the newest model`;
        if (lastApplyError?.message === e.error) {
          lastApplyError.repeats++;
          logger.warn(`apply failed again (${lastApplyError.repeats + 1} times in a row: ${brief(e.error)})${retry}`);
        } else {
          lastApplyError = { message: e.error, repeats: 0 };
          logger.error(`apply failed: ${e.error}${retry}`);
        }
        break;
      }
    }
    for (const observe of deps.observers ?? []) {
      try {
        observe(e);
      } catch (err) {
        logger.error(`internal error while recording a ${e.kind} event (metrics or status): ${(err as Error).message}`);
      }
    }
  };

  const run$ = pipeline<Fetched>({
    items$,
    ...(items$ === null ? {} : { streamLost$: streamLost }),
    hostsAnswered$: hostsAnswered,
    signals$: deps.signals$,
    fetch,
    build,
    ...(fast === undefined || replay === undefined ? {} : { fast, replay, needsSnapshot }),
    haproxy: deps.haproxy,
    applied,
    whyUnbindable,
    report,
    scheduler,
    ...(deps.turnScheduler === undefined ? {} : { turnScheduler: deps.turnScheduler }),
    timing: {
      quietMs: s.timing.quietMs,
      maxWaitMs: s.timing.maxWaitMs,
      resyncIntervalMs: s.timing.resyncIntervalMs,
      backoff: { initialMs: 1000, maxMs: s.timing.maxBackoffMs, factor: 2, jitter: () => 0.5 + deps.random() / 2 },
    },
  });
  return { run$, applied, lookupsPending: () => hostResolver.busy };
}
