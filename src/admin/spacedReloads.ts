import { filter, merge, throttleTime, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';

/**
 * Signals asked over HTTP (`POST /_mlb_signal/hup|usr1`, which HAProxy's Lua forwards from the stats
 * port, open to whoever reaches it): a reload (usr1) at most once per `spacingMs`, those in between
 * as one at the window's end; a refetch (hup) as it comes (the pipeline debounces those). A flood of
 * unauthenticated GETs was a reload each, and past mworker-max-reloads every long connection was cut
 * (an audit). An operator's own SIGUSR1 does not come this way.
 */
export function spacedReloads<S extends 'hup' | 'usr1'>(
  spacingMs: number,
  scheduler: SchedulerLike,
): MonoTypeOperatorFunction<S> {
  return (asked$) =>
    merge(
      asked$.pipe(
        filter((s) => s === 'usr1'),
        throttleTime(spacingMs, scheduler, { leading: true, trailing: true }),
      ),
      asked$.pipe(filter((s) => s !== 'usr1')),
    );
}
