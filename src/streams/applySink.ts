import { Observable, OperatorFunction, SchedulerLike, Subscription, defer } from 'rxjs';
import { BackoffOptions, nextDelay } from './backoff';

/** One apply attempt. The caller advances its "last applied" only on `ok: true`. */
export type ApplyOutcome<M, R> =
  | { readonly model: M; readonly ok: true; readonly result: R }
  | { readonly model: M; readonly ok: false; readonly error: unknown; readonly retryInMs: number };

export interface ApplySinkOptions<M, R> {
  /** Applies one model; its last value (on completion) is the result, an error is a failure. */
  readonly apply: (model: M) => Observable<R>;
  /** Classifies a result; a result it rejects is a failure whose `error` is the result. Default: all succeed. */
  readonly isSuccess?: (result: R) => boolean;
  readonly backoff: BackoffOptions;
  readonly scheduler: SchedulerLike;
  /**
   * Work that may not wait out a backoff (HAProxy restarted after a crash): arriving while a failed
   * apply waits for its retry, it runs at once. Default: none.
   */
  readonly urgent?: (model: M) => boolean;
}

/**
 * Applies models one at a time. While an apply runs (or a retry waits), only the newest model
 * that arrived is kept; older pending ones are dropped, since each model is a complete desired
 * state. A failed apply is retried after an exponential backoff (reset by a success) with the
 * newest model available: the failed one, unless a newer one arrived meanwhile. A newer model
 * does not cut a backoff short — that is what protects HAProxy from being hammered.
 *
 * Why: HAProxy reloads must never overlap, and a storm of models must not queue up stale work.
 *
 * Completes once the source has completed and the newest model was applied successfully; a
 * source error is passed on at once (cancelling a running apply).
 */
export function applySink<M, R>(opts: ApplySinkOptions<M, R>): OperatorFunction<M, ApplyOutcome<M, R>> {
  const { apply, isSuccess = () => true, backoff, scheduler, urgent = () => false } = opts;
  return (source) =>
    new Observable<ApplyOutcome<M, R>>((subscriber) => {
      let busy = false; // an apply is running or a retry is waiting
      let pending: { readonly model: M } | undefined;
      let failures = 0; // consecutive, for the backoff
      let sourceDone = false;
      let current: Subscription | undefined; // the running apply
      let retryTimer: Subscription | undefined;
      let waiting = false; // a retry timer runs

      const next = (): void => {
        waiting = false;
        if (pending) {
          const { model } = pending;
          pending = undefined;
          run(model);
        } else {
          busy = false;
          if (sourceDone) subscriber.complete();
        }
      };

      const fail = (model: M, error: unknown): void => {
        const retryInMs = nextDelay(failures, backoff);
        failures += 1;
        pending ??= { model };
        subscriber.next({ model, ok: false, error, retryInMs });
        if (subscriber.closed) return;
        waiting = true;
        retryTimer = scheduler.schedule(next, retryInMs);
      };

      const succeed = (model: M, result: R): void => {
        failures = 0;
        subscriber.next({ model, ok: true, result });
        if (!subscriber.closed) next();
      };

      const run = (model: M): void => {
        busy = true;
        // Assigned before subscribing: a synchronous apply may start the next run re-entrantly.
        const thisRun = (current = new Subscription());
        let last: { readonly result: R } | undefined;
        thisRun.add(
          defer(() => apply(model)).subscribe({
            next: (result) => (last = { result }),
            error: (error: unknown) => fail(model, error),
            complete: () => {
              if (!last) return fail(model, new Error('apply completed without a result'));
              let ok: boolean;
              try {
                ok = isSuccess(last.result);
              } catch (error) {
                return fail(model, error);
              }
              if (ok) succeed(model, last.result);
              else fail(model, last.result);
            },
          }),
        );
      };

      const sourceSub = source.subscribe({
        next: (model) => {
          if (!busy) return run(model);
          pending = { model };
          if (waiting && urgent(model)) {
            retryTimer?.unsubscribe();
            next();
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          if (!busy) subscriber.complete();
        },
      });

      return () => {
        sourceSub.unsubscribe();
        current?.unsubscribe();
        retryTimer?.unsubscribe();
      };
    });
}
