import { MonoTypeOperatorFunction, Observable, SchedulerLike, throwError, timeout } from 'rxjs';

/**
 * Errors with `IdleTimeoutError` when the source has emitted nothing for `ms` since subscription
 * or since its last value.
 *
 * Why: an SSE connection can hang silently (a dead peer or a NAT dropping state) without ever
 * erroring. marathon-lb relied on curl's "less than 1 byte/s for 300 s" for this; here the stall
 * becomes an ordinary error, which `retryBackoff` then turns into a reconnect.
 */
export class IdleTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no data received for ${ms} ms`);
    this.name = 'IdleTimeoutError';
  }
}

export function idleTimeout<T>(ms: number, scheduler: SchedulerLike): MonoTypeOperatorFunction<T> {
  // `each` without `first` also bounds the wait for the first value.
  return timeout<T, Observable<never>>({ each: ms, with: () => throwError(() => new IdleTimeoutError(ms)), scheduler });
}
