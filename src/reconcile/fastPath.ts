import { EMPTY, Observable, mergeMap, of } from 'rxjs';
import type { FastEvent } from './fastApply';
import type { MarathonEvent } from '../marathon/eventTypes';
import type { DesiredState } from './applyPort';
import type { Result } from '../result';

/** Work for the apply sink made from one event, without a snapshot. */
export interface FastWork {
  readonly kind: 'desired';
  readonly state: DesiredState;
  readonly triggeredAt: number;
  readonly fetchedAt: number;
  readonly fast: { readonly eventType: string; readonly appId: string };
}

export interface FastPathDeps {
  /** What HAProxy runs now (the applied state), or null before the first apply. */
  readonly current: () => DesiredState | null;
  /** Pure: the event applied to a state, or why the snapshot must decide. */
  readonly build: (event: FastEvent, base: DesiredState) => Result<DesiredState>;
  readonly now: () => number;
  readonly onRefused?: (event: FastEvent, reason: string) => void;
}

export const isFast = (e: MarathonEvent): e is FastEvent =>
  e.type === 'status_update_event' || e.type === 'health_status_changed_event';

/**
 * Task and health events → complete desired states, at once (no debounce, no fetch). Each builds on
 * the newest state this stage made while HAProxy runs one of its states or one still pending in the
 * apply sink (newest wins there, so a dropped one's change is carried by the next); once a snapshot
 * was applied, it starts again from that. Everything else, and every refusal, is the snapshot's —
 * and so are the app's later events until a snapshot is applied: built on a state without the
 * refused one, they would undo it (a task killed, then another started: the dead one served again).
 */
export function fastPath(deps: FastPathDeps): (events$: Observable<MarathonEvent>) => Observable<FastWork> {
  return (events$) =>
    new Observable<FastWork>((subscriber) => {
      const made = new WeakSet<DesiredState>();
      let newest: DesiredState | null = null;
      let baseOfNewest: DesiredState | null = null; // what HAProxy ran when `newest` was made
      const leftToSnapshot = new Map<string, DesiredState>(); // app → what HAProxy ran when its event was refused
      return events$
        .pipe(
          mergeMap((event) => {
            if (!isFast(event)) return EMPTY;
            const current = deps.current();
            if (current === null) return EMPTY;
            const refuse = (reason: string): Observable<never> => {
              leftToSnapshot.set(event.appId, current);
              deps.onRefused?.(event, reason);
              return EMPTY;
            };
            for (const [app, at] of leftToSnapshot)
              if (current !== at && !made.has(current)) leftToSnapshot.delete(app);
            if (leftToSnapshot.has(event.appId))
              return refuse(`app ${event.appId}: an earlier event of it is left to the snapshot`);
            const base = newest !== null && (made.has(current) || current === baseOfNewest) ? newest : current;
            const built = deps.build(event, base);
            if (!built.ok) return refuse(built.error);
            made.add(built.value);
            newest = built.value;
            baseOfNewest = current;
            const at = deps.now();
            return of<FastWork>({
              kind: 'desired',
              state: built.value,
              triggeredAt: at,
              fetchedAt: at,
              fast: { eventType: event.eventType, appId: event.appId },
            });
          }),
        )
        .subscribe(subscriber);
    });
}
