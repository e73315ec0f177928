import type { StatProxy, StatSample, StatServer } from '../haproxy/stats';
import type { Polled } from '../streams/pollEvery';
import {
  HAPROXY_SERVER_STATES,
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
  /** One history point per step (default 10 s), at most `historyPoints` kept (default 30: five minutes). */
  readonly historyStepMs?: number;
  readonly historyPoints?: number;
}

interface Track {
  readonly prev: StatProxy;
  readonly prevAt: number;
  readonly traffic: ProxyTraffic;
  readonly history: readonly TrafficPoint[];
  /** The counters when the last history point was taken: a point's rates are over its whole step. */
  readonly pointBase: StatProxy | null;
  readonly lastPointAt: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const key = (p: { readonly kind: string; readonly name: string }): string => `${p.kind}\0${p.name}`;
/** A counter's growth; after a reload the new worker counts from 0 again. */
const grown = (prev: number, cur: number): number => (cur >= prev ? cur - prev : cur);
const round = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * HAProxy's own view, kept from the reads of `show stat`: each server's state and last check,
 * each proxy's sessions and rates (counter deltas between reads) with a fixed-size history for a
 * chart. A failed read clears the current view (HAProxy's state is unknown then) but keeps the
 * history. Servers added through the runtime API are in `show stat` like the others.
 */
export class HaproxyState {
  private sample: StatSample | null = null;
  private lastReadAt: number | null = null;
  private error: string | null = null;
  private servers = new Map<string, StatServer>();
  private readonly tracks = new Map<string, Track>();
  private readonly stepMs: number;
  private readonly points: number;

  constructor(private readonly o: HaproxyStateOptions) {
    this.stepMs = o.historyStepMs ?? 10_000;
    this.points = Math.max(1, o.historyPoints ?? 30);
  }

  observe(r: Polled<StatSample>): void {
    if (!r.ok) {
      this.error = r.error;
      this.sample = null;
      this.servers = new Map();
      return;
    }
    const s = r.value;
    this.error = null;
    this.sample = s;
    this.lastReadAt = s.at;
    this.servers = new Map(s.servers.map((v) => [`${v.backend}/${v.name}`, v]));
    const seen = new Set<string>();
    for (const p of s.proxies) {
      const k = key(p);
      seen.add(k);
      this.tracks.set(k, this.advance(this.tracks.get(k), p, s.at));
    }
    for (const k of [...this.tracks.keys()]) if (!seen.has(k)) this.tracks.delete(k); // proxies gone with a reload
  }

  /** One server as HAProxy sees it; null when unknown. */
  server(backend: string, name: string): ServerRuntime | null {
    const v = this.servers.get(`${backend}/${name}`);
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
    return this.sample === null ? null : (this.tracks.get(key({ kind: 'backend', name }))?.traffic ?? null);
  }

  /** Servers by state in the last read; null when HAProxy could not be read (or was not yet). */
  serversByState(): Readonly<Record<HaproxyServerState, number>> | null {
    if (this.sample === null) return null;
    const counts = Object.fromEntries(HAPROXY_SERVER_STATES.map((s) => [s, 0])) as Record<HaproxyServerState, number>;
    for (const v of this.sample.servers) counts[v.state]++;
    return counts;
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
            .map((p) => this.tracks.get(key(p))?.traffic)
            .filter((t): t is ProxyTraffic => t !== undefined);
    return {
      enabled: this.o.enabled,
      readAt: this.lastReadAt === null ? null : iso(this.lastReadAt),
      secondsSinceRead: this.lastReadAt === null ? null : Math.max(0, (now - this.lastReadAt) / 1000),
      error: this.error,
      intervalSeconds: this.o.intervalMs / 1000,
      historyStepSeconds: this.stepMs / 1000,
      historyPoints: this.points,
      serversByState:
        this.serversByState() ??
        (Object.fromEntries(HAPROXY_SERVER_STATES.map((s) => [s, 0])) as Record<HaproxyServerState, number>),
      frontends: list('frontend'),
      backends: list('backend'),
    };
  }

  private advance(t: Track | undefined, p: StatProxy, at: number): Track {
    const dt = t === undefined ? 0 : (at - t.prevAt) / 1000;
    const rate = (prev: number, cur: number): number => (dt > 0 ? round(grown(prev, cur) / dt) : 0);
    const requestsPerSecond = t === undefined ? 0 : rate(t.prev.requestsTotal, p.requestsTotal);
    const http5xxPerSecond = t === undefined ? 0 : rate(t.prev.http5xxTotal, p.http5xxTotal);
    let history = t?.history ?? [];
    let lastPointAt = t?.lastPointAt ?? Number.NEGATIVE_INFINITY;
    let pointBase = t?.pointBase ?? null;
    if (at - lastPointAt >= this.stepMs) {
      const span = (at - lastPointAt) / 1000;
      const over = (prev: number, cur: number): number =>
        pointBase === null || span <= 0 ? 0 : round(grown(prev, cur) / span);
      history = [
        ...history,
        {
          at: iso(at),
          currentSessions: p.currentSessions,
          requestsPerSecond: over(pointBase?.requestsTotal ?? 0, p.requestsTotal),
          http5xxPerSecond: over(pointBase?.http5xxTotal ?? 0, p.http5xxTotal),
        },
      ].slice(-this.points);
      lastPointAt = at;
      pointBase = p;
    }
    const traffic: ProxyTraffic = {
      name: p.name,
      status: p.status,
      currentSessions: p.currentSessions,
      requestsPerSecond,
      http5xxPerSecond,
      requestsTotal: p.requestsTotal,
      http5xxTotal: p.http5xxTotal,
      history,
    };
    return { prev: p, prevAt: at, traffic, history, pointBase, lastPointAt };
  }
}
