import type { PipelineEvent } from '../reconcile/pipeline';
import type { MarathonStatus } from './statusTypes';

export interface MarathonStateOptions {
  /** Epoch ms. */
  readonly now: () => number;
  /** --sse: the event stream is expected to be connected. */
  readonly eventStream: boolean;
  /** --stale-after in ms. */
  readonly staleAfterMs: number;
}

/** What a read of /v2/apps ends in: a failure, or its snapshot built (or not); the fast path reads nothing. */
function endsRead(e: PipelineEvent): boolean {
  switch (e.kind) {
    case 'fetch-failed':
    case 'snapshot-invalid':
      return true;
    case 'unchanged':
      return e.fast !== true;
    case 'stage-error':
      return e.stage === 'build';
    case 'applying':
      return e.fast !== true && e.fetchedAt !== undefined;
    default:
      return false;
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const age = (now: number, ms: number | null): number | null => (ms === null ? null : Math.max(0, (now - ms) / 1000));

/**
 * How the controller's view of Marathon is doing: the event stream's connection, the last event,
 * the last snapshot read and the last failed read. Fed by the controller's stream callbacks and the
 * pipeline's events; `stale` says when routing may be out of date because Marathon cannot be followed.
 */
export class MarathonState {
  private readonly startedAt: number;
  private connectedSince: number | null = null;
  private disconnectedSince: number;
  /** When the event stream last sent bytes (an event or a heartbeat). */
  private lastStreamBytesAt: number | null = null;
  private lastEventAt: number | null = null;
  private lastSnapshotAt: number | null = null;
  private lastFetchError: { readonly at: number; readonly error: string } | null = null;
  private failures = 0;
  /** The first failed read since the last success. */
  private failingSince: number | null = null;
  /** The read of /v2/apps under way began then (the pipeline reads one at a time). */
  private fetchingSince: number | null = null;
  private changeCount = 0;

  constructor(private readonly o: MarathonStateOptions) {
    this.startedAt = o.now();
    this.disconnectedSince = this.startedAt;
  }

  /**
   * Bytes came on the event stream (Marathon's event_stream_attached, an event, its heartbeat every
   * 10 s): it is connected from the first of them, not from its headers. A stream that answers and
   * then sends nothing was shown connected in each idle window, reconnect after reconnect, and
   * never went stale. True when these bytes connected it.
   */
  streamReceived(): boolean {
    this.lastStreamBytesAt = this.o.now();
    if (this.connectedSince !== null) return false;
    this.connectedSince = this.lastStreamBytesAt;
    this.changeCount++;
    return true;
  }

  /**
   * The stream is gone: down since its last bytes. Counted from when it was found gone (an idle
   * timeout later), a hung stream was said down for 33 s after 54 s of silence (found by an audit).
   */
  streamLost(): void {
    if (this.connectedSince !== null) this.disconnectedSince = this.lastStreamBytesAt ?? this.o.now();
    this.connectedSince = null;
    this.changeCount++;
  }

  /** Counts what changed the status but the time of the last event (StatusBook.version). */
  get changes(): number {
    return this.changeCount;
  }

  /** How long the read of Marathon's apps under way has gone on, or null when none is. */
  readingForMs(): number | null {
    return this.fetchingSince === null ? null : this.o.now() - this.fetchingSince;
  }

  eventReceived(): void {
    this.lastEventAt = this.o.now();
  }

  observe(e: PipelineEvent): void {
    this.changeCount++;
    if (e.kind === 'fetching') this.fetchingSince = this.o.now();
    else if (endsRead(e)) this.fetchingSince = null;
    switch (e.kind) {
      case 'fetch-failed':
        this.failures++;
        this.failingSince ??= this.o.now();
        this.lastFetchError = { at: this.o.now(), error: e.error };
        break;
      case 'unchanged':
      case 'applying':
        // A snapshot read and built (`applying` of a SIGUSR1 reload has no fetch; the fast path's
        // events are no read of Marathon: with task churn, failing reads went unreported).
        if (e.fast !== true && (e.kind === 'unchanged' || e.fetchedAt !== undefined))
          this.succeeded(e.fetchedAt ?? this.o.now());
        break;
      case 'snapshot-invalid':
        this.failures = 0; // Marathon answered; what it said is the app owners' problem (see leftOut and failures)
        this.failingSince = null;
        break;
      default:
        break;
    }
  }

  get streamUp(): boolean {
    return this.connectedSince !== null;
  }

  /** Epoch ms, null before the first. */
  get lastEvent(): number | null {
    return this.lastEventAt;
  }

  get lastSnapshot(): number | null {
    return this.lastSnapshotAt;
  }

  /** Marathon can be followed: the last read succeeded (there was one) and, with --sse, the stream is connected. */
  get up(): boolean {
    return this.lastSnapshotAt !== null && this.failures === 0 && (!this.o.eventStream || this.streamUp);
  }

  /**
   * Why routing may be out of date, or null: the event stream down, or reads of Marathon failing
   * (or none succeeded since start), for longer than --stale-after. A quiet cluster is never stale:
   * no event and no read for a long time is normal; so is one failed read after a long quiet time.
   */
  staleReason(): string | null {
    const now = this.o.now();
    const bound = this.o.staleAfterMs;
    if (this.o.eventStream && this.connectedSince === null && now - this.disconnectedSince > bound) {
      return `the Marathon event stream has been down for ${Math.round((now - this.disconnectedSince) / 1000)} s: changes in Marathon are not seen`;
    }
    const why = this.lastFetchError === null ? '' : `: ${this.lastFetchError.error}`;
    if (this.lastSnapshotAt === null && now - this.startedAt > bound) {
      return `no snapshot could be read from Marathon since start ${Math.round((now - this.startedAt) / 1000)} s ago${why}`;
    }
    if (this.failingSince !== null && now - this.failingSince > bound) {
      return `reads of Marathon have failed for ${Math.round((now - this.failingSince) / 1000)} s${why}`;
    }
    // A read that never ends holds every change behind it (an audit: a trickled answer, 300 s).
    if (this.fetchingSince !== null && now - this.fetchingSince > bound) {
      return `a read of Marathon's apps has gone on for ${Math.round((now - this.fetchingSince) / 1000)} s (a slow or stuck answer): changes in Marathon wait for it`;
    }
    return null;
  }

  status(): MarathonStatus {
    const now = this.o.now();
    const up = this.streamUp;
    return {
      eventStream: this.o.eventStream,
      streamConnected: up,
      connectedSince: iso(this.connectedSince),
      disconnectedSince: !this.o.eventStream || up ? null : iso(this.disconnectedSince),
      lastEventAt: iso(this.lastEventAt),
      secondsSinceLastEvent: age(now, this.lastEventAt),
      lastSnapshotAt: iso(this.lastSnapshotAt),
      secondsSinceLastSnapshot: age(now, this.lastSnapshotAt),
      lastFetchError:
        this.lastFetchError === null
          ? null
          : { at: iso(this.lastFetchError.at) ?? '', error: this.lastFetchError.error },
      consecutiveFetchFailures: this.failures,
      fetchingSince: iso(this.fetchingSince),
      secondsFetching: age(now, this.fetchingSince),
    };
  }

  private succeeded(at: number): void {
    this.failures = 0;
    this.failingSince = null;
    this.lastSnapshotAt = Math.max(at, this.lastSnapshotAt ?? at);
  }
}
