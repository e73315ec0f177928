import { Observable, OperatorFunction, SchedulerLike, defer, retry, switchMap, tap, timer } from 'rxjs';
import { BackoffOptions, nextDelay } from './backoff';

export interface FetchFailure {
  readonly error: unknown;
  /** Consecutive failed attempts so far (1-based), across triggers, reset by a success. */
  readonly attempt: number;
  /** How long until the next attempt. */
  readonly retryInMs: number;
}

export interface RetryLatestOptions {
  readonly backoff: BackoffOptions;
  readonly scheduler: SchedulerLike;
  /** Told about each failed attempt, before its backoff starts. */
  readonly onFailure?: (failure: FetchFailure) => void;
}

/**
 * Runs `fetch` for each trigger; a newer trigger cancels (unsubscribes) a fetch still in flight,
 * and a failed fetch is tried again after an exponential backoff until it succeeds.
 *
 * Why: a snapshot requested before the latest trigger is already stale, so only the newest
 * trigger's fetch matters. A failed read of Marathon (5xx, invalid JSON, timeout, a synchronous
 * throw) must not leave routing stale until the next event or resync, yet a struggling Marathon
 * must not be hammered: the backoff is shared by all triggers (a newer trigger during a backoff
 * waits for what is left of it, then fetches once for itself) and is reset by a success.
 *
 * Never errors. Completes once the source has completed and the last fetch has succeeded;
 * unsubscribing cancels a fetch in flight and a pending retry.
 */
export function retryLatest<T, R>(fetch: (trigger: T) => Observable<R>, opts: RetryLatestOptions): OperatorFunction<T, R> {
  const { backoff, scheduler, onFailure } = opts;
  return (source) =>
    defer(() => {
      let failures = 0;
      let notBefore = Number.NEGATIVE_INFINITY; // scheduler time at which the running backoff ends

      const attempt = (trigger: T): Observable<R> =>
        defer(() => {
          const wait = notBefore - scheduler.now();
          const fetch$ = defer(() => fetch(trigger));
          return wait > 0 ? timer(wait, scheduler).pipe(switchMap(() => fetch$)) : fetch$;
        });

      return source.pipe(
        switchMap((trigger) =>
          attempt(trigger).pipe(
            tap(() => {
              failures = 0;
              notBefore = Number.NEGATIVE_INFINITY;
            }),
            retry({
              delay: (error: unknown) => {
                const retryInMs = nextDelay(failures, backoff);
                failures += 1;
                notBefore = scheduler.now() + retryInMs;
                onFailure?.({ error, attempt: failures, retryInMs });
                return timer(retryInMs, scheduler);
              },
            }),
          ),
        ),
      );
    });
}
