import { MonoTypeOperatorFunction, Observable, SchedulerLike, Subscription } from 'rxjs';

/**
 * Emits the newest value once the source has been quiet for `quietMs`, but never later than
 * `maxWaitMs` after the first value of the current burst.
 *
 * Why: Marathon sends event storms during deployments. Plain `debounceTime` would starve updates
 * for as long as the storm lasts; reacting per event would re-fetch and re-render per event. This
 * bounds both: one emission per burst, and at least one every `maxWaitMs` during a storm.
 *
 * On completion a pending value is flushed before completing; on error a pending value is dropped
 * (like `debounceTime`) and the error is passed on.
 */
export function debounceMaxWait<T>(
  quietMs: number,
  maxWaitMs: number,
  scheduler: SchedulerLike,
): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let pending: { readonly value: T } | undefined;
      let quietTimer: Subscription | undefined;
      let maxTimer: Subscription | undefined;

      const cancelTimers = (): void => {
        quietTimer?.unsubscribe();
        maxTimer?.unsubscribe();
        quietTimer = maxTimer = undefined;
      };
      const flush = (): void => {
        cancelTimers();
        if (pending) {
          const { value } = pending;
          pending = undefined;
          subscriber.next(value);
        }
      };

      const sourceSub = source.subscribe({
        next: (value) => {
          pending = { value };
          quietTimer?.unsubscribe();
          quietTimer = scheduler.schedule(flush, quietMs);
          maxTimer ??= scheduler.schedule(flush, maxWaitMs);
        },
        error: (err: unknown) => {
          cancelTimers();
          pending = undefined;
          subscriber.error(err);
        },
        complete: () => {
          flush();
          subscriber.complete();
        },
      });

      return () => {
        cancelTimers();
        sourceSub.unsubscribe();
      };
    });
}
