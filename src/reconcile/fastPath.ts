import { EMPTY, Observable, filter, mergeMap, of, type SchedulerLike } from 'rxjs';
import { appliesAfterRefusal, type FastEvent } from './fastApply';
import type { MarathonEvent } from '../marathon/eventTypes';
import type { DesiredState } from './applyPort';
import { batchPerTurn } from '../streams/batchPerTurn';

/** Work for the apply sink made from a batch of events, without a snapshot. */
export interface FastWork {
  readonly kind: 'desired';
  readonly state: DesiredState;
  readonly triggeredAt: number;
  readonly fetchedAt: number;
  /** What it applied, for logs: "status_update_event of app /a", or how many events of which apps. */
  readonly fast: { readonly what: string };
}

/** What the fast path's build made of a batch of events. */
export interface FastBuilt {
  /** The base with the events applied (all but those of the refused apps); null when none was. */
  readonly state: DesiredState | null;
  /** Apps left to the snapshot, with why: their refused event and their later ones were not applied. */
  readonly refused: ReadonlyMap<string, string>;
}

export interface FastPathDeps {
  /** What HAProxy runs now (the applied state), or null before the first apply. */
  readonly current: () => DesiredState | null;
  /** Pure: the events applied to a state in turn, and the apps whose events the snapshot must decide. */
  readonly build: (events: readonly FastEvent[], base: DesiredState) => FastBuilt;
  readonly now: () => number;
  /** Events that arrive in one turn of it are built together (batchPerTurn). */
  readonly scheduler: SchedulerLike;
  /** `what`: the event's type, or how many events of the app a batch held (the reason says which app). */
  readonly onRefused?: (what: string, reason: string) => void;
  /** `build` threw (a bug, or data it cannot handle): that batch's apps are left to the snapshot. */
  readonly onError?: (error: unknown) => void;
}

/** The types of the events routed here (changeLag.ts tells them from changes only a snapshot applies). */
export const isFastEventType = (type: string): boolean =>
  type === 'status_update_event' || type === 'health_status_changed_event';

export const isFast = (e: MarathonEvent): e is FastEvent => isFastEventType(e.type);

/**
 * Task and health events → complete desired states, at once (no debounce, no fetch). The events of
 * one turn of the scheduler are built together (a burst is a few builds, not one per event). Each
 * build is on the newest state this stage made while HAProxy runs one of its states or one still
 * pending in the apply sink (newest wins there, so a dropped one's change is carried by the next);
 * once a snapshot was applied, it starts again from that. Everything else, and every refusal, is the
 * snapshot's — and so are the app's later events until a snapshot is applied: built on a state
 * without the refused one, they would undo it (a task killed, then another started: the dead one
 * served again). Only one that ends a task still applies (appliesAfterRefusal): its server leaves,
 * which no refused event can make wrong.
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
          filter(isFast),
          batchPerTurn(deps.scheduler),
          mergeMap((batch) => {
            const current = deps.current();
            if (current === null) return EMPTY;
            for (const [app, at] of leftToSnapshot)
              if (current !== at && !made.has(current)) leftToSnapshot.delete(app);
            const events = batch.filter((event) => {
              if (!leftToSnapshot.has(event.appId) || appliesAfterRefusal(event)) return true;
              deps.onRefused?.(event.eventType, `app ${event.appId}: an earlier event of it is left to the snapshot`);
              return false;
            });
            if (events.length === 0) return EMPTY;
            const base = newest !== null && (made.has(current) || current === baseOfNewest) ? newest : current;
            const built = buildOrRefuse(deps, events, base);
            if (built.refused.size > 0) {
              // Which of an app's events was refused is not told: its first one was named, wrongly.
              const ofApp = new Map<string, FastEvent[]>();
              for (const e of events) {
                const list = ofApp.get(e.appId);
                if (list === undefined) ofApp.set(e.appId, [e]);
                else list.push(e);
              }
              for (const [app, reason] of built.refused) {
                leftToSnapshot.set(app, current);
                const own = ofApp.get(app) ?? [];
                deps.onRefused?.(
                  own.length === 1 ? own[0]!.eventType : `one of ${own.length} task and health events`,
                  reason,
                );
              }
            }
            if (built.state === null) return EMPTY;
            made.add(built.state);
            newest = built.state;
            baseOfNewest = current;
            const at = deps.now();
            return of<FastWork>({
              kind: 'desired',
              state: built.state,
              triggeredAt: at,
              fetchedAt: at,
              fast: { what: describeApplied(events, built.refused) },
            });
          }),
        )
        .subscribe(subscriber);
    });
}

/** `deps.build`, or, when it throws, every app of the batch refused: the snapshot decides, and the stage goes on. */
function buildOrRefuse(deps: FastPathDeps, events: readonly FastEvent[], base: DesiredState): FastBuilt {
  try {
    return deps.build(events, base);
  } catch (e) {
    deps.onError?.(e);
    const why = `building its events failed (${e instanceof Error ? e.message : String(e)})`;
    return { state: null, refused: new Map(events.map((ev) => [ev.appId, `app ${ev.appId}: ${why}`])) };
  }
}

/**
 * What a fast apply applied: the events of the apps none was refused of; when only apps refused part
 * way changed (their events before the refusal, their kills after it), theirs but the refused ones.
 */
export function describeApplied(events: readonly FastEvent[], refused: ReadonlyMap<string, string>): string {
  const applied = events.filter((e) => !refused.has(e.appId));
  if (applied.length > 0) return describeEvents(applied);
  return `${describeEvents(events)}, but those left to the snapshot`;
}

/** "status_update_event of app /a" for one event; for several, how many and of which apps. */
function describeEvents(events: readonly FastEvent[]): string {
  if (events.length === 1) return `${events[0]!.eventType} of app ${events[0]!.appId}`;
  const apps = [...new Set(events.map((e) => e.appId))];
  const named = apps.length <= 3 ? apps.join(', ') : `${apps.slice(0, 3).join(', ')} and ${apps.length - 3} more`;
  return `${events.length} task and health events of app${apps.length > 1 ? 's' : ''} ${named}`;
}
