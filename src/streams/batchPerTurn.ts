import { Observable, OperatorFunction, SchedulerLike, Subscription } from 'rxjs';

/**
 * The values that arrive before the scheduler's next turn, as one array: the first value of a
 * batch schedules its flush (delay 0), later ones join it. A burst read from one socket chunk (a
 * scale of 1 000 tasks is 1 000 events in a few chunks) becomes a few batches, and whatever arrives
 * while a batch is worked on waits in the socket for the next one: the work keeps up by taking
 * more at a time. Completion and errors flush the batch under way first; unsubscribing drops it.
 */
export function batchPerTurn<T>(scheduler: SchedulerLike): OperatorFunction<T, readonly T[]> {
  return (source) =>
    new Observable<readonly T[]>((subscriber) => {
      let batch: T[] | null = null;
      let flushing: Subscription | null = null;
      const flush = (): void => {
        const out = batch;
        batch = null;
        flushing?.unsubscribe();
        flushing = null;
        if (out !== null) subscriber.next(out);
      };
      const upstream = source.subscribe({
        next: (value) => {
          if (batch !== null) {
            batch.push(value);
            return;
          }
          batch = [value];
          flushing = scheduler.schedule(flush);
        },
        error: (e: unknown) => {
          flush();
          subscriber.error(e);
        },
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        upstream.unsubscribe();
        flushing?.unsubscribe();
      };
    });
}
