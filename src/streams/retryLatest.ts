import { Observable, OperatorFunction, SchedulerLike, Subscription, defer, retry, switchMap, tap, timer } from 'rxjs';
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
  /**
   * Asked when a trigger arrives during a backoff: true ends that backoff and fetches at once (an
   * operator's explicit ask to read Marathon again: SIGHUP). Default: never.
   */
  readonly cutsBackoff?: () => boolean;
  /**
   * Asked when a trigger arrives during a backoff that it does not cut: the most of that backoff it
   * waits, counted from the failure (undefined: all of it). A sign the source is back (a Marathon
   * event) shortens a long backoff without fetching at every such sign.
   */
  readonly waitsAtMost?: () => number | undefined;
}

/**
 * Runs `fetch` for the newest trigger: a fetch under way is left to finish (its result is passed on)
 * and the newest trigger that came meanwhile is fetched right after it; a newer trigger during a
 * backoff replaces the one waiting. A failed fetch is tried again after an exponential backoff until
 * it succeeds.
 *
 * Why not cancel a fetch under way: a big Marathon takes seconds to send `/v2/apps` (30 MB at
 * 10 000 apps); cancelling it for every trigger of an event storm would never finish one. The one
 * that finishes is older than the events meanwhile, which the event fast path replays onto it, and
 * the next fetch follows at once. A failed read of Marathon (5xx, invalid JSON, timeout, a
 * synchronous throw) must not leave routing stale until the next event or resync, yet a struggling
 * Marathon must not be hammered: the backoff is shared by all triggers (a newer trigger during a
 * backoff waits for what is left of it, then fetches once for itself, unless it `cutsBackoff`) and is
 * reset by a success.
 *
 * Never errors. Completes once the source has completed and the last fetch has succeeded;
 * unsubscribing cancels a fetch in flight and a pending retry.
 */
export function retryLatest<T, R>(
  fetch: (trigger: T) => Observable<R>,
  opts: RetryLatestOptions,
): OperatorFunction<T, R> {
  const { backoff, scheduler, onFailure, cutsBackoff = () => false, waitsAtMost = () => undefined } = opts;
  return (source) =>
    new Observable<R>((subscriber) => {
      let failures = 0;
      let notBefore = Number.NEGATIVE_INFINITY; // scheduler time at which the running backoff ends
      let failedAt = Number.NEGATIVE_INFINITY; // scheduler time of the last failure
      let fetching = false; // a fetch is under way (not waiting for a backoff)
      let running: Subscription | undefined;
      let waiting: { readonly trigger: T } | undefined; // the newest trigger, for after the fetch under way
      let sourceDone = false;

      const attempt = (trigger: T): Observable<R> =>
        defer(() => {
          const wait = notBefore - scheduler.now();
          const fetch$ = defer(() => {
            fetching = true;
            return fetch(trigger);
          });
          return wait > 0 ? timer(wait, scheduler).pipe(switchMap(() => fetch$)) : fetch$;
        });

      const start = (trigger: T): void => {
        running?.unsubscribe();
        const thisRun = new Subscription();
        running = thisRun;
        thisRun.add(
          attempt(trigger)
            .pipe(
              tap(() => {
                failures = 0;
                notBefore = Number.NEGATIVE_INFINITY;
              }),
              retry({
                delay: (error: unknown) => {
                  fetching = false;
                  const retryInMs = nextDelay(failures, backoff);
                  failures += 1;
                  failedAt = scheduler.now();
                  notBefore = failedAt + retryInMs;
                  onFailure?.({ error, attempt: failures, retryInMs });
                  return timer(retryInMs, scheduler);
                },
              }),
            )
            .subscribe({
              next: (r) => subscriber.next(r),
              complete: () => {
                if (running !== thisRun) return;
                fetching = false;
                running = undefined;
                const w = next();
                if (w !== undefined) start(w);
                else if (sourceDone) subscriber.complete();
              },
            }),
        );
      };
      const next = (): T | undefined => {
        const w = waiting;
        waiting = undefined;
        return w?.trigger;
      };

      const sourceSub = source.subscribe({
        next: (trigger) => {
          if (running === undefined) start(trigger);
          else if (fetching) waiting = { trigger };
          else {
            // Waiting for a backoff: the newer trigger replaces it, and waits what is left of it, unless it cuts it.
            if (cutsBackoff()) notBefore = Number.NEGATIVE_INFINITY;
            else {
              const most = waitsAtMost();
              if (most !== undefined) notBefore = Math.min(notBefore, failedAt + most);
            }
            start(trigger);
          }
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          sourceDone = true;
          if (running === undefined) subscriber.complete();
        },
      });
      return () => {
        sourceSub.unsubscribe();
        running?.unsubscribe();
      };
    });
}
