import { NOT_RUNNING } from '../haproxy/stateReader';
import type { StatProxy, StatSample } from '../haproxy/stats';
import type { Polled } from '../streams/pollEvery';
import {
  type HaproxyServerState,
  type HaproxyStatus,
  type ProxyTraffic,
  type ServerRuntime,
  type TrafficPoint,
} from './statusTypes';

export interface HaproxyStateOptions {
  /** Epoch ms. */
  readonly now: () => number;
  /** False: HAProxy is never read (--command mode, --haproxy-stats-interval 0). */
  readonly enabled: boolean;
  readonly intervalMs: number;
  /**
   * The least time a read asks before the next one (a big `show stat`, see service.ts): the interval
   * shown is the longer of the two, as the reads go. Absent: none.
   */
  readonly spacingMs?: (s: StatSample) => number;
  /** One history point per step (default 10 s), at most `historyPoints` kept (default 30: five minutes). */
  readonly historyStepMs?: number;
  readonly historyPoints?: number;
}

/**
 * One proxy's counters over the reads, updated in place: at 10 000 backends a read touches 17 000
 * proxies, and nothing is made for one per read but when a history point is due. What the admin API
 * shows (ProxyTraffic) is made when asked for. Numbers and the name only, not the read's StatProxy.
 */
class Track {
  readonly name: string;
  readonly kind: StatProxy['kind'];
  status = '';
  currentSessions = 0;
  requestsTotal = 0;
  http5xxTotal = 0;
  at = 0;
  /** The counters of the read before; none for a proxy first seen in the last read (its rates are 0). */
  private hasPrev = false;
  private prevRequests = 0;
  private prevHttp5xx = 0;
  private prevAt = 0;
  /** The counters when the last history point was taken: a point's rates are over its whole step. */
  private hasBase = false;
  private baseRequests = 0;
  private baseHttp5xx = 0;
  private lastPointAt = Number.NEGATIVE_INFINITY;
  private readonly history: TrafficPoint[] = [];
  /** The read that saw this proxy last. */
  seen = 0;

  constructor(p: StatProxy, at: number) {
    this.name = p.name;
    this.kind = p.kind;
    this.take(p, at);
  }

  /** Takes the next read of this proxy; a history point when a step has passed since the last one. */
  advance(p: StatProxy, at: number, idle: TrafficPoint, stepMs: number, points: number): void {
    this.hasPrev = true;
    this.prevRequests = this.requestsTotal;
    this.prevHttp5xx = this.http5xxTotal;
    this.prevAt = this.at;
    this.take(p, at);
    this.point(idle, stepMs, points);
  }

  /** `idle`: this read's point with no traffic, shared by the proxies that had none (most, in a big cluster). */
  point(idle: TrafficPoint, stepMs: number, points: number): void {
    const at = this.at;
    if (at - this.lastPointAt < stepMs) return;
    const span = (at - this.lastPointAt) / 1000;
    const over = (prev: number, cur: number): number =>
      !this.hasBase || span <= 0 ? 0 : round(grown(prev, cur) / span);
    const requestsPerSecond = over(this.baseRequests, this.requestsTotal);
    const http5xxPerSecond = over(this.baseHttp5xx, this.http5xxTotal);
    this.history.push(
      this.currentSessions === 0 && requestsPerSecond === 0 && http5xxPerSecond === 0
        ? idle
        : { at: idle.at, currentSessions: this.currentSessions, requestsPerSecond, http5xxPerSecond },
    );
    while (this.history.length > points) this.history.shift();
    this.lastPointAt = at;
    this.hasBase = true;
    this.baseRequests = this.requestsTotal;
    this.baseHttp5xx = this.http5xxTotal;
  }

  traffic(): ProxyTraffic {
    const dt = this.hasPrev ? (this.at - this.prevAt) / 1000 : 0;
    const rate = (from: number, to: number): number => (dt > 0 ? round(grown(from, to) / dt) : 0);
    return {
      name: this.name,
      status: this.status,
      currentSessions: this.currentSessions,
      requestsPerSecond: this.hasPrev ? rate(this.prevRequests, this.requestsTotal) : 0,
      http5xxPerSecond: this.hasPrev ? rate(this.prevHttp5xx, this.http5xxTotal) : 0,
      requestsTotal: this.requestsTotal,
      http5xxTotal: this.http5xxTotal,
      history: [...this.history],
    };
  }

  private take(p: StatProxy, at: number): void {
    this.status = p.status;
    this.currentSessions = p.currentSessions;
    this.requestsTotal = p.requestsTotal;
    this.http5xxTotal = p.http5xxTotal;
    this.at = at;
  }
}
const iso = (ms: number): string => new Date(ms).toISOString();
/** A counter's growth; after a reload the new worker counts from 0 again. */
const grown = (prev: number, cur: number): number => (cur >= prev ? cur - prev : cur);
const round = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * HAProxy's own view, kept from the reads of `show stat`: each server's state and last check,
 * each proxy's sessions and rates (counter deltas between reads) with a fixed-size history for a
 * chart. A failed read keeps the current view for a few intervals (a reload's moment), then clears
 * it (HAProxy's state is unknown then); the history is kept. Servers added through the runtime API are in `show stat` like the others.
 */
export class HaproxyState {
  private sample: StatSample | null = null;
  private lastReadAt: number | null = null;
  private error: string | null = null;
  /** The first failed read since the last good one. */
  private failingSince: number | null = null;
  /** HAProxy running and never answered: since the first such read (an adopted master whose worker is wedged). */
  private runningUnansweredSince: number | null = null;
  /** By kind: a frontend and a backend may have one name. */
  private readonly tracks = { frontend: new Map<string, Track>(), backend: new Map<string, Track>() };
  private reads = 0;
  /** The tracks in the order of the last read's proxies. */
  private order: readonly Track[] = [];
  private readonly stepMs: number;
  private readonly points: number;

  private changeCount = 0;

  constructor(private readonly o: HaproxyStateOptions) {
    this.stepMs = o.historyStepMs ?? 10_000;
    this.points = Math.max(1, o.historyPoints ?? 30);
  }

  /** Counts the reads observed (StatusBook.version). */
  get changes(): number {
    return this.changeCount;
  }

  /** Whether HAProxy has answered a read since the controller started. */
  hasAnswered(): boolean {
    return this.lastReadAt !== null;
  }

  /**
   * How long HAProxy has not answered (ms): since its last answer, or, running and never answered,
   * since the first read of it that failed. Null: it answers, it has not run yet (before the first
   * start), or reading is off (--command mode). A controller restarted beside a wedged HAProxy adopts
   * it: never read, it said healthy for good while nothing got through (an operator audit).
   */
  silentForMs(): number | null {
    if (!this.o.enabled || this.failingSince === null) return null;
    if (this.lastReadAt === null)
      return this.runningUnansweredSince === null ? null : this.o.now() - this.runningUnansweredSince;
    // From its last answer: the first failed read ends seconds later (its own timeout), and counted
    // from then, "has not answered for 32 s" was 36 s (found by an audit).
    return this.o.now() - this.lastReadAt;
  }

  /** How long after its read the last view stays shown while reads fail: three intervals, at least 10 s. */
  private keptAfterFailureMs(): number {
    return Math.max(10_000, 3 * this.o.intervalMs);
  }

  /** O(proxies), in place: the servers were counted while `show stat` was read, and are read from their rows when asked for. */
  observe(r: Polled<StatSample>): void {
    this.changeCount++;
    if (!r.ok) {
      this.error = r.error;
      this.failingSince ??= this.o.now();
      if (r.error === NOT_RUNNING) this.runningUnansweredSince = null;
      else if (this.lastReadAt === null) this.runningUnansweredSince ??= this.o.now();
      // The last view is kept, with the error and its read time, for a few reads: the one that meets
      // a reload fails (the master re-executes), and the servers, counts and metrics went blank for
      // 2-4 s at every reload (found by a soak test). HAProxy silent for longer: unknown.
      // Not running (stopped, restarting): unknown at once.
      if (
        r.error === NOT_RUNNING ||
        (this.sample !== null && this.o.now() - this.sample.at > this.keptAfterFailureMs())
      )
        this.sample = null;
      return;
    }
    const s = r.value;
    this.error = null;
    this.failingSince = null;
    this.runningUnansweredSince = null;
    this.sample = s;
    this.lastReadAt = s.at;
    const read = ++this.reads;
    // One point object for all the proxies without traffic at this read: at 10 000 apps, 17 000
    // proxies × 30 points of their own were ~24 MB of a long-running controller's heap.
    const idle: TrafficPoint = Object.freeze({
      at: iso(s.at),
      currentSessions: 0,
      requestsPerSecond: 0,
      http5xxPerSecond: 0,
    });
    const seen = { frontend: 0, backend: 0 };
    // HAProxy lists its proxies in the same order at each read: the track at the same place is
    // almost always the one (a name compare instead of hashing 17 000 new name strings).
    const before = this.order;
    const order: Track[] = (this.order = new Array<Track>(s.proxies.length));
    for (let i = 0; i < s.proxies.length; i++) {
      const p = s.proxies[i]!;
      const tracks = this.tracks[p.kind];
      const there = before[i];
      let t = there !== undefined && there.kind === p.kind && there.name === p.name ? there : tracks.get(p.name);
      if (t === undefined) {
        t = new Track(p, s.at);
        t.point(idle, this.stepMs, this.points);
        tracks.set(t.name, t);
      } else t.advance(p, s.at, idle, this.stepMs, this.points);
      if (t.seen !== read) seen[p.kind]++;
      t.seen = read;
      order[i] = t;
    }
    // Proxies not in this read are gone with a reload.
    for (const kind of ['frontend', 'backend'] as const) {
      const tracks = this.tracks[kind];
      if (seen[kind] < tracks.size) for (const [name, t] of tracks) if (t.seen !== read) tracks.delete(name);
    }
  }

  /** One server as HAProxy sees it; null when unknown. */
  server(backend: string, name: string): ServerRuntime | null {
    const v = this.sample?.server(backend, name);
    if (v === undefined || this.sample === null) return null;
    const at = this.sample.at;
    const since = v.secondsSinceChange;
    return {
      state: v.state,
      status: v.status,
      checked: v.checked,
      check:
        !v.checked || v.checkStatus === ''
          ? null
          : {
              status: v.checkStatus,
              code: v.checkCode,
              description: v.checkDescription,
              durationMs: v.checkDurationMs,
              passed: /^L\dOK/.test(v.checkStatus),
            },
      lastChangeAt: since === null ? null : iso(at - since * 1000),
      secondsSinceChange: since === null ? null : since + Math.max(0, (this.o.now() - at) / 1000),
      currentSessions: v.currentSessions,
      http5xxTotal: v.http5xxTotal,
    };
  }

  backend(name: string): ProxyTraffic | null {
    return this.sample === null ? null : (this.tracks.backend.get(name)?.traffic() ?? null);
  }

  /** Servers by state in the last read; null when HAProxy could not be read (or was not yet). */
  serversByState(): Readonly<Record<HaproxyServerState, number>> | null {
    return this.sample === null ? null : { ...this.sample.byState };
  }

  /** Epoch ms of the last successful read. */
  get readAt(): number | null {
    return this.lastReadAt;
  }

  status(): HaproxyStatus {
    const now = this.o.now();
    const list = (kind: 'frontend' | 'backend'): ProxyTraffic[] =>
      this.sample === null
        ? []
        : this.sample.proxies
            .filter((p) => p.kind === kind)
            .map((p) => this.tracks[kind].get(p.name)?.traffic())
            .filter((t): t is ProxyTraffic => t !== undefined);
    return {
      enabled: this.o.enabled,
      readAt: this.lastReadAt === null ? null : iso(this.lastReadAt),
      secondsSinceRead: this.lastReadAt === null ? null : Math.max(0, (now - this.lastReadAt) / 1000),
      error: this.error,
      intervalSeconds:
        Math.max(this.o.intervalMs, this.sample === null ? 0 : (this.o.spacingMs?.(this.sample) ?? 0)) / 1000,
      historyStepSeconds: this.stepMs / 1000,
      historyPoints: this.points,
      serversByState: this.serversByState(),
      frontends: list('frontend'),
      backends: list('backend'),
    };
  }
}
