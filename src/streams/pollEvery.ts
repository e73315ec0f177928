import {
  EMPTY,
  Observable,
  catchError,
  defer,
  exhaustMap,
  map,
  merge,
  of,
  tap,
  timeout,
  timer,
  type SchedulerLike,
} from 'rxjs';
import { err, type Result } from '../result';

/** A read's outcome: its value, or why it failed (an error, a rejection or the timeout). */
export type Polled<T> = Result<T>;

export interface PollOptions<T> {
  readonly intervalMs: number;
  /** A read taking longer is abandoned and reported as failed. */
  readonly timeoutMs: number;
  /** A read failing within this many ms was refused (see `share`); a quarter of `timeoutMs` by default. */
  readonly refusedWithinMs?: number;
  readonly scheduler: SchedulerLike;
  /**
   * Bounds the share of time reads take, the source's and the controller's: a tick within `factor`
   * times what the last read cost (by `clock`, reading and handling its value) is skipped too. At
   * 10 000 backends one `show stat` (50 000 rows) keeps HAProxy busy for about a second, and the
   * requests through it wait. A read refused at once (within a quarter of `timeoutMs`: HAProxy
   * starting, its socket gone) cost the source nothing and does not count: the next tick reads
   * again. One that answered, timed out or failed late (cut off mid-answer by a reload) counts, but
   * holds the next back `most(value)` ms at most, or `mostAfterFailure` after a failure: a small read
   * slowed by a stall, or one that timed out, says little of what the next will cost (spaced by its
   * cost, a timed-out read held the next back 49 × its timeout, while /healthz counted HAProxy
   * silent). Absent: ticks only.
   */
  readonly share?: {
    readonly factor: number;
    readonly clock: () => number;
    readonly most?: (value: T) => number;
    readonly mostAfterFailure?: number;
  };
  /**
   * The least time (ms) from a read's value to the next read, by what the value holds: a big
   * `show stat` costs HAProxy and the controller in proportion to its rows, whoever waits for it.
   */
  readonly spacing?: (value: T) => number;
  /**
   * Each value asks for a read now, between the ticks (held back like a tick, never overlapping one):
   * a read that found the source down says nothing once it is up again (HAProxy just started: /status
   * said "HAProxy is not running" until the next tick).
   */
  readonly readNow?: Observable<unknown>;
}

/**
 * Reads at once, then every `intervalMs` and at each `readNow`; one read at a time — a tick that
 * finds the previous read still running is skipped (exhaustMap), so a slow HAProxy is never asked
 * twice; so is one too soon after a costly read (`share`) or a big one (`spacing`). A read that
 * fails, throws or times out becomes a value; the polling goes on. A read answering
 * `err(message)` (a Result) is passed on as such.
 */
export function pollEvery<T>(
  read: () => Promise<Polled<T>> | Observable<Polled<T>>,
  o: PollOptions<T>,
): Observable<Polled<T>> {
  return new Observable<Polled<T>>((subscriber) => {
    let notBefore = Number.NEGATIVE_INFINITY;
    return merge(timer(0, o.intervalMs, o.scheduler), o.readNow ?? EMPTY)
      .pipe(
        exhaustMap(() => {
          if (o.scheduler.now() < notBefore) return EMPTY;
          const began = o.share?.clock() ?? 0;
          const startedAt = o.scheduler.now();
          return defer(read).pipe(
            timeout({
              first: o.timeoutMs,
              scheduler: o.scheduler,
              with: () => of<Polled<T>>(err(`no answer within ${o.timeoutMs} ms`)),
            }),
            map((r): Polled<T> => r),
            catchError((e: unknown) => of<Polled<T>>(err(e instanceof Error ? e.message : String(e)))),
            tap((r) => {
              subscriber.next(r);
              // A timeout ends at timeoutMs, so only an early failure is a refusal.
              const refused = !r.ok && o.scheduler.now() - startedAt < (o.refusedWithinMs ?? o.timeoutMs / 4);
              const share = refused ? undefined : o.share;
              const cost = share === undefined ? 0 : (share.factor - 1) * (share.clock() - began);
              const most = !r.ok ? share?.mostAfterFailure : share?.most?.(r.value);
              const spacing = r.ok ? (o.spacing?.(r.value) ?? 0) : 0;
              notBefore = o.scheduler.now() + Math.max(Math.min(cost, most ?? cost), spacing);
            }),
          );
        }),
      )
      .subscribe({ error: (e: unknown) => subscriber.error(e), complete: () => subscriber.complete() });
  });
}
