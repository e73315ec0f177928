import {
  EMPTY,
  Observable,
  SchedulerLike,
  concat,
  filter,
  interval,
  map,
  merge,
  of,
  scan,
  startWith,
  switchMap,
} from 'rxjs';

/**
 * Why something should be re-read from Marathon. Every trigger leads to the same action (fetch a
 * full snapshot); the kind is kept for logs and metrics.
 */
export type Trigger =
  | { readonly kind: 'event'; readonly eventType: string }
  | { readonly kind: 'connected' }
  | { readonly kind: 'resync' }
  | { readonly kind: 'signal'; readonly signal: 'hup' }
  /** An app HAProxy refused to run for a cause that may pass (its port held) is due for another try. */
  | { readonly kind: 'retry' }
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
  /** One value each time an app left out for a cause that may pass is due for another try; absent: never. */
  readonly retries$?: Observable<unknown>;
  /** One value each time the event stream is lost (it failed, or went silent); absent: never. */
  readonly lost$?: Observable<unknown>;
  /**
   * The resync interval from a loss of the event stream until it connects again, when shorter than
   * `resyncIntervalMs`: no event tells of changes meanwhile (default DOWN_RESYNC_MS).
   */
  readonly downResyncIntervalMs?: number;
  readonly scheduler: SchedulerLike;
}

/**
 * Resyncs while the event stream is down, 30 s apart. A stream that keeps failing (Marathon's
 * answering 500 to it, a proxy cutting it) reconnected at backoffs up to a minute and changed
 * nothing until the next 300 s resync: an app change went unrouted for minutes (found by an attack).
 */
const DOWN_RESYNC_MS = 30_000;

const STARTUP: Trigger = { kind: 'startup' };
const CONNECTED: Trigger = { kind: 'connected' };
const RESYNC: Trigger = { kind: 'resync' };
const RETRY: Trigger = { kind: 'retry' };

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
  const downMs = Math.min(resyncIntervalMs, src.downResyncIntervalMs ?? DOWN_RESYNC_MS);
  const resyncs$ = (down: boolean): Observable<Trigger> =>
    interval(down ? downMs : resyncIntervalMs, scheduler).pipe(map((): Trigger => RESYNC));
  return merge(
    events$.pipe(map((e): Trigger => ({ kind: 'event', eventType: e.eventType }))),
    connected$.pipe(map((): Trigger => CONNECTED)),
    signals$.pipe(map((signal): Trigger => ({ kind: 'signal', signal }))),
    (src.retries$ ?? EMPTY).pipe(map((): Trigger => RETRY)),
    (src.lost$ ?? EMPTY).pipe(map((): typeof LOST => LOST)),
  ).pipe(
    startWith(STARTUP),
    // Whether the stream is down: from a loss to the next connection.
    scan(
      (was: { readonly down: boolean }, t: Trigger | typeof LOST) => ({
        down: t === LOST ? true : t === CONNECTED ? false : was.down,
        trigger: t === LOST ? null : t,
        newlyDown: t === LOST && !was.down,
      }),
      { down: false, trigger: null as Trigger | null, newlyDown: false },
    ),
    // The first loss restarts the timer at the shorter interval and triggers nothing itself; later
    // ones (a stream that fails again at each reconnect, every few seconds) change nothing.
    filter(({ trigger, newlyDown }) => trigger !== null || newlyDown),
    switchMap(({ down, trigger }) => (trigger === null ? resyncs$(down) : concat(of(trigger), resyncs$(down)))),
  );
}

const LOST = Symbol('event stream lost');
