import { Observable, SchedulerLike } from 'rxjs';
import type { Steps } from '../steps';

export interface SliceOptions {
  /** Each scheduler task runs steps for about this long (at least one step). */
  readonly sliceMs: number;
  /**
   * While true, no step runs: the work waits, checking again every ms, but never more than
   * `maxWaitMs` before a slice (a storm of such waits must not starve the work). The controller
   * waits while a task event's runtime update runs: each of its round trips to HAProxy would
   * otherwise wait for a slice.
   */
  readonly waitWhile?: () => boolean;
  readonly maxWaitMs?: number;
}

/**
 * Emits the result of `steps()` and completes, doing the work in scheduler tasks of about `sliceMs`
 * each.
 *
 * Why: at 10 000 apps a snapshot's model and config take a few hundred ms of CPU. Done in one task,
 * they hold up every task event that arrives meanwhile, whose runtime update takes a few ms; between
 * slices those go through. An error thrown by a step is passed on; unsubscribing stops the work (a
 * generator's `finally` runs).
 */
export function inSlices<T>(steps: () => Steps<T>, scheduler: SchedulerLike, opts: SliceOptions): Observable<T> {
  const { sliceMs, waitWhile = () => false, maxWaitMs = 100 } = opts;
  return new Observable<T>((subscriber) => {
    let it: Steps<T> | undefined;
    let done = false;
    let waitingSince: number | undefined;
    const action = scheduler.schedule(function slice() {
      if (waitWhile() && scheduler.now() - (waitingSince ??= scheduler.now()) < maxWaitMs) {
        this.schedule(undefined, 1);
        return;
      }
      waitingSince = undefined;
      try {
        it ??= steps();
        const until = scheduler.now() + sliceMs;
        for (;;) {
          const r = it.next();
          if (r.done === true) {
            done = true;
            subscriber.next(r.value);
            subscriber.complete();
            return;
          }
          if (scheduler.now() >= until) break;
        }
      } catch (e) {
        done = true;
        subscriber.error(e);
        return;
      }
      this.schedule();
    });
    return () => {
      action.unsubscribe();
      if (!done) it?.return(undefined as T);
    };
  });
}
