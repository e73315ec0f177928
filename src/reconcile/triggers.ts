import { Observable, SchedulerLike, concat, interval, map, merge, of, startWith, switchMap } from 'rxjs';

/**
 * Why something should be re-read from Marathon. Every trigger leads to the same action (fetch a
 * full snapshot); the kind is kept for logs and metrics.
 */
export type Trigger =
  | { readonly kind: 'event'; readonly eventType: string }
  | { readonly kind: 'connected' }
  | { readonly kind: 'resync' }
  | { readonly kind: 'signal'; readonly signal: 'hup' }
  | { readonly kind: 'startup' };

export interface TriggerSources {
  /** Relevant Marathon events (already filtered by type). */
  readonly events$: Observable<{ readonly eventType: string }>;
  /** One value per (re)connection of the event stream. */
  readonly connected$: Observable<unknown>;
  /** SIGHUP and its HTTP equivalent (SIGUSR1 re-reads nothing: the pipeline reloads the existing config). */
  readonly signals$: Observable<'hup'>;
  /** Quiet time after which a full resync is forced (marathon-lb: 300 s). */
  readonly resyncIntervalMs: number;
  readonly scheduler: SchedulerLike;
}

const STARTUP: Trigger = { kind: 'startup' };
const CONNECTED: Trigger = { kind: 'connected' };
const RESYNC: Trigger = { kind: 'resync' };

/**
 * Merges the trigger sources into one stream: `startup` first, then every event, (re)connection
 * and signal, plus a `resync` whenever nothing else arrived for `resyncIntervalMs` — the timer
 * restarts after every trigger, so a busy system is not resynced needlessly while an idle or
 * silently broken one still is (snapshots are the truth, events are hints).
 *
 * Errors of a source are passed on (wrap sources in `retryBackoff` to keep them alive). The
 * resync timer keeps running after the sources complete; the stream ends when unsubscribed.
 */
export function triggers(src: TriggerSources): Observable<Trigger> {
  const { events$, connected$, signals$, resyncIntervalMs, scheduler } = src;
  const resyncs$ = interval(resyncIntervalMs, scheduler).pipe(map((): Trigger => RESYNC));
  return merge(
    events$.pipe(map((e): Trigger => ({ kind: 'event', eventType: e.eventType }))),
    connected$.pipe(map((): Trigger => CONNECTED)),
    signals$.pipe(map((signal): Trigger => ({ kind: 'signal', signal }))),
  ).pipe(
    startWith(STARTUP),
    switchMap((t) => concat(of(t), resyncs$)),
  );
}
