import { Observable, OperatorFunction, catchError, defer, map, of, switchMap } from 'rxjs';

/** Outcome of one fetch: failures are values, so one failed fetch does not end the pipeline. */
export type FetchResult<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

/**
 * Runs `fetch` for each trigger; a newer trigger cancels (unsubscribes) a fetch still in flight.
 *
 * Why: a snapshot requested before the latest trigger is already stale — finishing it would only
 * delay the one that matters. Errors (including a synchronous throw from `fetch`) become
 * `{ ok: false }` values so the caller can log them and wait for the next trigger.
 */
export function latestWins<T, R>(fetch: (trigger: T) => Observable<R>): OperatorFunction<T, FetchResult<R>> {
  return switchMap((trigger: T) =>
    defer(() => fetch(trigger)).pipe(
      map((value): FetchResult<R> => ({ ok: true, value })),
      catchError((error: unknown) => of<FetchResult<R>>({ ok: false, error })),
    ),
  );
}
