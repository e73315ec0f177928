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
  /**
   * Work that runs beside a backoff without cutting it short: arriving while a failed apply waits for
   * its retry, it runs at once, and the failed one (or a newer one) is still retried when the wait
   * ends. Arriving while an apply runs, it waits for that one's end, and a newer model does not drop
   * it. Its success does not reset the backoff, and its failure is not retried. For runtime-only work
   * built on what HAProxy runs (task churn must not wait behind a reload that keeps failing).
   * Default: none.
   */
  readonly beside?: (model: M) => boolean;
  /**
   * Asked at each failure: the longest wait before its retry, or undefined for the backoff's own.
   * While nothing serves (HAProxy not running), each retry is the only way back: one that waited out
   * a grown backoff kept every route down for a minute after the cause was fixed (a fault test).
   * Default: the backoff's own.
   */
  readonly maxRetryInMs?: () => number | undefined;
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
  const {
    apply,
    isSuccess = () => true,
    backoff,
    scheduler,
    urgent = () => false,
    beside = () => false,
    maxRetryInMs = () => undefined,
  } = opts;
  return (source) =>
    new Observable<ApplyOutcome<M, R>>((subscriber) => {
      let running = false; // an apply is running
      let pending: { readonly model: M } | undefined;
      // Work that runs beside a backoff, while a failed model waits in `pending`.
      let pendingBeside: { readonly model: M } | undefined;
      // Beside work a newer model took the place of while an apply ran: should that apply fail, it
      // runs during the wait, not lost behind a newer model that may fail in turn (a snapshot while
      // `haproxy -c` timed out: a killed task stayed served for minutes). Should it succeed, the
      // newer model covers it.
      let displaced: { readonly model: M } | undefined;
      let failures = 0; // consecutive, for the backoff
      let sourceDone = false;
      let current: Subscription | undefined; // the running apply
      let retryTimer: Subscription | undefined;
      let retryDueAt = 0;
      let waiting = false; // a retry timer runs

      /** Starts what may run now: beside work during a wait, else the newest pending model. */
      const pump = (): void => {
        if (running) return;
        const take = waiting ? pendingBeside : (pending ?? pendingBeside);
        if (take === undefined) {
          if (!waiting && sourceDone) subscriber.complete();
          return;
        }
        if (take === pending) pending = undefined;
        else pendingBeside = undefined;
        run(take.model, waiting);
      };

      const endWait = (): void => {
        waiting = false;
        retryTimer?.unsubscribe();
        retryTimer = undefined;
      };

      const fail = (model: M, error: unknown, besideWait: boolean): void => {
        running = false;
        if (besideWait) {
          displaced = undefined;
          // The model that failed before is retried when the wait ends: that one covers this one.
          subscriber.next({ model, ok: false, error, retryInMs: Math.max(0, retryDueAt - scheduler.now()) });
          if (!subscriber.closed) pump();
          return;
        }
        const retryInMs = Math.min(nextDelay(failures, backoff), maxRetryInMs() ?? Infinity);
        failures += 1;
        // Beside work that came during the failed apply runs during the wait; the failed one after it.
        if (pending !== undefined && beside(pending.model)) {
          pendingBeside = pending;
          pending = undefined;
        } else if (displaced !== undefined) pendingBeside ??= displaced;
        displaced = undefined;
        pending ??= { model };
        subscriber.next({ model, ok: false, error, retryInMs });
        if (subscriber.closed) return;
        waiting = true;
        retryDueAt = scheduler.now() + retryInMs;
        retryTimer = scheduler.schedule(() => {
          waiting = false;
          pump();
        }, retryInMs);
        pump();
      };

      const succeed = (model: M, result: R, besideWait: boolean): void => {
        running = false;
        displaced = undefined;
        if (!besideWait) failures = 0;
        subscriber.next({ model, ok: true, result });
        if (!subscriber.closed) pump();
      };

      const run = (model: M, besideWait: boolean): void => {
        running = true;
        // Assigned before subscribing: a synchronous apply may start the next run re-entrantly.
        const thisRun = (current = new Subscription());
        let last: { readonly result: R } | undefined;
        thisRun.add(
          defer(() => apply(model)).subscribe({
            next: (result) => (last = { result }),
            error: (error: unknown) => fail(model, error, besideWait),
            complete: () => {
              if (!last) return fail(model, new Error('apply completed without a result'), besideWait);
              let ok: boolean;
              try {
                ok = isSuccess(last.result);
              } catch (error) {
                return fail(model, error, besideWait);
              }
              if (ok) succeed(model, last.result, besideWait);
              else fail(model, last.result, besideWait);
            },
          }),
        );
      };

      const sourceSub = source.subscribe({
        next: (model) => {
          if (waiting && urgent(model)) {
            // It takes the failed model's place and runs now (or once the beside work running ends).
            pending = { model };
            endWait();
          } else if (waiting && beside(model)) pendingBeside = { model };
          else {
            if (running && pending !== undefined && beside(pending.model) && !beside(model)) displaced = pending;
            pending = { model };
          }
          pump();
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          if (!running && !waiting && pending === undefined && pendingBeside === undefined) subscriber.complete();
        },
      });

      return () => {
        sourceSub.unsubscribe();
        current?.unsubscribe();
        retryTimer?.unsubscribe();
      };
    });
}
