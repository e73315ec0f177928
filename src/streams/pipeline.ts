import { EMPTY, Observable, SchedulerLike, defer, filter, last, map, merge, mergeMap, of, share, tap } from 'rxjs';
import type { StreamItem } from '../marathon/events';
import type { ApplyPort, ApplyReport, DesiredState } from './applyPort';
import type { AppliedState } from './appliedState';
import { applySink, type ApplyOutcome } from './applySink';
import type { BackoffOptions } from './backoff';
import { debounceMaxWait } from './debounceMaxWait';
import { latestWins } from './latestWins';
import { plan } from './plan';
import { triggers, type Trigger } from './triggers';

/** What happened, for logs, metrics and the admin API. */
export type PipelineEvent =
  | { readonly kind: 'trigger'; readonly trigger: Trigger }
  | { readonly kind: 'fetch-failed'; readonly error: string }
  | { readonly kind: 'snapshot-invalid'; readonly error: string }
  | { readonly kind: 'unchanged'; readonly state: DesiredState }
  | { readonly kind: 'applying'; readonly reasons: readonly string[]; readonly runtimeOps: number; readonly triggeredAt: number }
  | { readonly kind: 'applied'; readonly report: ApplyReport; readonly state: DesiredState | null; readonly previous: DesiredState | null }
  | { readonly kind: 'apply-failed'; readonly error: string; readonly retryInMs: number };

export type Work = { readonly kind: 'desired'; readonly state: DesiredState; readonly triggeredAt: number } | { readonly kind: 'reload-existing' };

export interface PipelineDeps<F> {
  /** The Marathon event stream, already kept alive (idle timeout + retry); null in poll mode. */
  readonly items$: Observable<StreamItem> | null;
  readonly signals$: Observable<'hup' | 'usr1'>;
  /** Fetches a snapshot (apps + resolved hosts). A newer trigger cancels one in flight. */
  readonly fetch: () => Observable<F>;
  /** Pure: snapshot → desired state, or a message naming what is wrong with it. */
  readonly build: (fetched: F) => DesiredState | { readonly error: string };
  readonly haproxy: ApplyPort;
  readonly applied: AppliedState;
  readonly report: (e: PipelineEvent) => void;
  readonly scheduler: SchedulerLike;
  readonly timing: {
    readonly quietMs: number;
    readonly maxWaitMs: number;
    readonly resyncIntervalMs: number;
    readonly backoff: BackoffOptions;
  };
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * The controller: triggers → debounce (quiet + max wait) → latest-wins snapshot fetch → pure build
 * → apply sink (one at a time, newest wins, backoff on failure, commit only on success).
 */
export function pipeline<F>(deps: PipelineDeps<F>): Observable<ApplyOutcome<Work, ApplyReport | 'unchanged'>> {
  const { scheduler, timing, report, applied } = deps;
  const items$ = deps.items$?.pipe(share()) ?? EMPTY;
  const signals$ = deps.signals$.pipe(share());
  const now = (): number => scheduler.now();

  const trigger$ = triggers({
    events$: items$.pipe(mergeMap((i) => (i.kind === 'event' ? of({ eventType: i.event.eventType }) : EMPTY))),
    connected$: items$.pipe(filter((i) => i.kind === 'connected')),
    signals$: signals$.pipe(filter((s) => s === 'hup')),
    resyncIntervalMs: timing.resyncIntervalMs,
    scheduler,
  }).pipe(tap((trigger) => report({ kind: 'trigger', trigger })));

  let lastProblem: string | null = null; // bad input is reported once, not on every trigger
  const once = (kind: 'fetch-failed' | 'snapshot-invalid', error: string): void => {
    if (error !== lastProblem) report({ kind, error });
    lastProblem = error;
  };

  const desired$: Observable<Work> = trigger$.pipe(
    map(() => now()),
    debounceMaxWait(timing.quietMs, timing.maxWaitMs, scheduler),
    latestWins((triggeredAt: number) => deps.fetch().pipe(last(), map((fetched) => ({ fetched, triggeredAt })))),
    mergeMap((result) => {
      if (!result.ok) {
        once('fetch-failed', message(result.error));
        return EMPTY;
      }
      const built = deps.build(result.value.fetched);
      if ('error' in built) {
        once('snapshot-invalid', built.error);
        return EMPTY;
      }
      lastProblem = null;
      return of<Work>({ kind: 'desired', state: built, triggeredAt: result.value.triggeredAt });
    }),
  );
  const usr1$: Observable<Work> = signals$.pipe(filter((s) => s === 'usr1'), map((): Work => ({ kind: 'reload-existing' })));

  const apply = (work: Work): Observable<ApplyReport | 'unchanged'> => defer(() => {
    if (work.kind === 'reload-existing') {
      return deps.haproxy.reloadExisting().pipe(last(), tap((r) => report({ kind: 'applied', report: r, state: null, previous: null })));
    }
    const previous = applied.current;
    if (applied.isCurrent(work.state)) {
      report({ kind: 'unchanged', state: work.state });
      return of('unchanged' as const);
    }
    const p = plan(previous?.model.services ?? null, work.state.model.services,
      previous === null ? undefined : { previous: previous.rendered.config, next: work.state.rendered.config });
    report({ kind: 'applying', reasons: p.reloadReasons, runtimeOps: p.runtimeOps.length, triggeredAt: work.triggeredAt });
    return deps.haproxy.apply(work.state, p, previous).pipe(
      last(),
      tap((r) => {
        const state = r.applied ?? work.state;
        applied.commit(state, now());
        report({ kind: 'applied', report: r, state, previous });
      }),
    );
  });

  return merge(desired$, usr1$).pipe(
    applySink({ apply, backoff: timing.backoff, scheduler }),
    tap((outcome) => {
      if (!outcome.ok) report({ kind: 'apply-failed', error: message(outcome.error), retryInMs: outcome.retryInMs });
    }),
  );
}
