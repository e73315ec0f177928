import { Observable, catchError, defer, exhaustMap, map, of, timeout, timer, type SchedulerLike } from 'rxjs';

/** A read's outcome: its value, or why it failed (an error, a rejection or the timeout). */
export type Polled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

export interface PollOptions {
  readonly intervalMs: number;
  /** A read taking longer is abandoned and reported as failed. */
  readonly timeoutMs: number;
  readonly scheduler: SchedulerLike;
}

/**
 * Reads at once, then every `intervalMs`; one read at a time — a tick that finds the previous read
 * still running is skipped (exhaustMap), so a slow HAProxy is never asked twice. A read that fails,
 * throws or times out becomes a value; the polling goes on. A read answering
 * `{ ok: false, message }` (a Result) is passed on as such.
 */
export function pollEvery<T>(read: () => Promise<Polled<T>> | Observable<Polled<T>>, o: PollOptions): Observable<Polled<T>> {
  return timer(0, o.intervalMs, o.scheduler).pipe(
    exhaustMap(() => defer(read).pipe(
      timeout({ first: o.timeoutMs, scheduler: o.scheduler, with: () => of<Polled<T>>({ ok: false, message: `no answer within ${o.timeoutMs} ms` }) }),
      map((r): Polled<T> => r),
      catchError((e: unknown) => of<Polled<T>>({ ok: false, message: e instanceof Error ? e.message : String(e) })),
    )),
  );
}
