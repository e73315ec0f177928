import { firstValueFrom, from, map, race, timer, type SchedulerLike } from 'rxjs';

/**
 * A read for the scrapes: callers at the same time share the one read in flight (a scrape's gauges,
 * scrapes that overlap), and a read not answered within `withinMs` gives its callers null while it
 * runs on. Read afresh per gauge and scrape, a stopped HAProxy master held each scrape for 40 s, and
 * queued one more command per gauge in front of the controller's own on its socket.
 */
export function sharedBoundedRead<T>(
  read: () => Promise<T>,
  withinMs: number,
  scheduler: SchedulerLike,
): () => Promise<T | null> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= read().finally(() => (inFlight = undefined));
    return firstValueFrom(race(from(inFlight), timer(withinMs, scheduler).pipe(map(() => null))));
  };
}
