import { distinctUntilChanged, interval, map, type Observable, type SchedulerLike, skip, startWith } from 'rxjs';
import type { Health } from '../admin/statusTypes';

/**
 * `health()` read every `periodMs` on `scheduler`, emitting each change of its verdict after the
 * first reading (healthy is assumed at the start, so an unhealthy first reading is a change). What
 * /healthz answers is otherwise only seen by whoever asks it: a wedged HAProxy turned it 503 for
 * minutes without a log line (found by an attack). A changed reason alone is no change.
 */
export function healthChanges(health: () => Health, periodMs: number, scheduler: SchedulerLike): Observable<Health> {
  return interval(periodMs, scheduler).pipe(
    map(() => health()),
    startWith<Health>({ healthy: true }),
    distinctUntilChanged((a, b) => a.healthy === b.healthy),
    skip(1),
  );
}
