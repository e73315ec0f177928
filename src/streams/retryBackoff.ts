import { MonoTypeOperatorFunction, Observable, SchedulerLike, defer, race, retry, take, tap, timer } from 'rxjs';
import { BackoffOptions, nextDelay } from './backoff';

/**
 * Resubscribes the source after an error, waiting an exponential backoff with injected jitter.
 *
 * Why: marathon-lb's SSE loop reconnects forever, waiting `random() * wait` where `wait` grows
 * 1.5× from 3 s up to --max-backoff, and starts again from 3 s after a good stream. A flapping
 * Marathon must not be hammered, yet a healthy reconnection must not inherit an old long delay.
 *
 * An attempt counts as healthy — so the next failure backs off from `initialMs` again — once it
 * has emitted a value and, when `resetAfterMs` is given, has also stayed subscribed that long, or
 * at least as long as the wait before it (and `initialMs`): a stream that says hello and dies at
 * once still backs off, one up more than it is down does not (broken every 7–20 s by something on
 * the way, its reconnects waited up to 3 minutes while Marathon answered). Never gives up: the
 * caller stops it by unsubscribing.
 */
export interface RetryBackoffOptions extends BackoffOptions {
  /** Lifetime of an attempt (besides having emitted) that resets the backoff, whatever the wait before it. */
  readonly resetAfterMs?: number;
  /**
   * Ends the wait after an attempt that never emitted (its source could not be reached at all), when
   * it emits: the source is known to answer again. An attempt that emitted and then died waits its
   * backoff out, so that a source that answers but drops the attempt at once is not hammered.
   */
  readonly retryNow$?: Observable<unknown>;
  /** Told about each retry before waiting: 1-based retry number since the last reset. */
  readonly onRetry?: (info: RetryInfo) => void;
  readonly scheduler: SchedulerLike;
}

export interface RetryInfo {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
  /** retryNow$ may end this wait early (the attempt never emitted). */
  readonly cutByRetryNow: boolean;
}

export function retryBackoff<T>(opts: RetryBackoffOptions): MonoTypeOperatorFunction<T> {
  const { scheduler, resetAfterMs, onRetry, retryNow$ } = opts;
  return (source) =>
    defer(() => {
      let failures = 0; // consecutive unhealthy attempts
      let startedAt = 0;
      let emitted = false;
      let waited = 0; // before the attempt under way
      const attempt$ = defer(() => {
        startedAt = scheduler.now();
        emitted = false;
        return source;
      }).pipe(tap(() => (emitted = true)));

      return attempt$.pipe(
        retry({
          delay: (error: unknown) => {
            const lived = scheduler.now() - startedAt;
            const healthyAfter =
              resetAfterMs === undefined ? 0 : Math.min(resetAfterMs, Math.max(waited, opts.initialMs));
            if (emitted && lived >= healthyAfter) failures = 0;
            const delayMs = nextDelay(failures, opts);
            waited = delayMs;
            failures += 1;
            const cutByRetryNow = retryNow$ !== undefined && !emitted;
            onRetry?.({ attempt: failures, delayMs, error, cutByRetryNow });
            const wait = timer(delayMs, scheduler);
            return cutByRetryNow ? race(wait, retryNow$.pipe(take(1))) : wait;
          },
        }),
      );
    });
}
