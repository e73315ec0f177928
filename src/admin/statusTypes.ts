import type { Problem } from '../model/types';

/*
 * The shape of `GET /status` (JSON). Plain data, shared by the service (which builds it) and the
 * dashboard (which renders it). Times are ISO 8601 strings (UTC); ages are seconds at `generatedAt`.
 */

/** What `GET /status` answers. */
export interface AdminStatus {
  readonly generatedAt: string;
  readonly lastAppliedAt: string | null;
  readonly secondsSinceLastApply: number | null;
  /** A trigger, an apply in progress or a retry after a failed apply, not yet decided. */
  readonly pendingChange: boolean;
  /** The last fetch, snapshot, internal or apply error, cleared by the next success. */
  readonly lastError: string | null;
  /** Since when a known Marathon change waits to be applied (see ChangeLag); null when routing is current. */
  readonly unappliedChangeSince: string | null;
  /**
   * Routing may be out of date: a known change has waited longer than --max-apply-age (then
   * /healthz answers 503), or the event stream is down, or no snapshot was read successfully, for
   * longer than --stale-after. The dashboard shows a banner with `staleReason`.
   */
  readonly stale: boolean;
  /** Why `stale` (one sentence for people); null when not stale. */
  readonly staleReason: string | null;
  readonly marathon: MarathonStatus;
  readonly haproxy: HaproxyStatus;
  readonly services: readonly ServiceStatus[];
  /** The first LEFT_OUT_SHOWN of what is left out: one hostile snapshot can hold 100 000 problems. */
  readonly leftOut: readonly Problem[];
  /** How many are left out in all. */
  readonly leftOutTotal: number;
  readonly recentApplies: readonly ApplyRecord[];
  readonly recentFailures: readonly FailureRecord[];
}

/** How the controller's view of Marathon is doing. */
export interface MarathonStatus {
  /** --sse: the event stream is used; false when the controller polls (or runs one pass). */
  readonly eventStream: boolean;
  /** The event stream is connected now (false without --sse). */
  readonly streamConnected: boolean;
  /** Since when it is connected; null while disconnected. */
  readonly connectedSince: string | null;
  /** Since when it is disconnected (or never connected since start); null while connected or without --sse. */
  readonly disconnectedSince: string | null;
  /** The last Marathon event received (any type), null before the first. */
  readonly lastEventAt: string | null;
  readonly secondsSinceLastEvent: number | null;
  /** The last successful read of /v2/apps (a snapshot built, whether it changed anything or not). */
  readonly lastSnapshotAt: string | null;
  readonly secondsSinceLastSnapshot: number | null;
  /** The last failed read of Marathon; kept after a success (compare `at` with lastSnapshotAt). */
  readonly lastFetchError: { readonly at: string; readonly error: string } | null;
  /** Reads of /v2/apps failing right now (since the last success); 0 when the last read succeeded. */
  readonly consecutiveFetchFailures: number;
  /**
   * Since when the read of /v2/apps under way has run (a big or slow Marathon answers for tens of
   * seconds; one that keeps sending bytes is not cut off); null when none is.
   */
  readonly fetchingSince: string | null;
  readonly secondsFetching: number | null;
}

/**
 * HAProxy's operational state of a server (`show stat` status, normalised): UP (also "no check",
 * then `checked` is false), DOWN, MAINT (also "MAINT (via)", "MAINT (resolution)"), DRAIN, NOLB;
 * UNKNOWN for anything else (the raw text is in `status`).
 */
export type HaproxyServerState = 'UP' | 'DOWN' | 'MAINT' | 'DRAIN' | 'NOLB' | 'UNKNOWN';

export const HAPROXY_SERVER_STATES: readonly HaproxyServerState[] = ['UP', 'DOWN', 'MAINT', 'DRAIN', 'NOLB', 'UNKNOWN'];

/** One server as HAProxy sees it now (from `show stat`). */
export interface ServerRuntime {
  readonly state: HaproxyServerState;
  /** HAProxy's text as is, e.g. "UP", "DOWN", "UP 1/3" (going down), "no check", "MAINT (via)". */
  readonly status: string;
  /** HAProxy health checks this server (false: "no check", HAProxy routes to it while it is UP). */
  readonly checked: boolean;
  /** The last check; null without checks. */
  readonly check: CheckResult | null;
  /** When the state last changed (HAProxy's lastchg); null when HAProxy does not say. */
  readonly lastChangeAt: string | null;
  readonly secondsSinceChange: number | null;
  readonly currentSessions: number;
  /** HTTP 5xx answers of this server since HAProxy (re)started it. */
  readonly http5xxTotal: number;
}

export interface CheckResult {
  /** HAProxy's check_status code, e.g. L7OK, L7STS, L4CON, L4TOUT, L7TOUT, INI, SOCKERR ("*" of a check in progress is dropped). */
  readonly status: string;
  /** The HTTP status or other code of the last check, null when none. */
  readonly code: number | null;
  /** HAProxy's check_desc, e.g. "Layer7 wrong status" — the reason people read. */
  readonly description: string;
  readonly durationMs: number | null;
  /** L*OK: the last check passed. */
  readonly passed: boolean;
}

/**
 * Marathon's view of the task behind a server: `healthy` — the app has Marathon health checks and
 * --health-check is on: tasks Marathon reports unhealthy (or without a result) are not routed to at
 * all, so every server shown passed; `unknown` — the app has health checks but --health-check is off
 * (Marathon's results are not read); `none` — the app has no Marathon health checks.
 */
export type MarathonHealth = 'healthy' | 'unknown' | 'none';

export interface ServerStatus {
  readonly name: string;
  readonly address: string;
  /** Written disabled by the controller (an old blue/green task being drained). */
  readonly draining: boolean;
  readonly marathonHealth: MarathonHealth;
  /** HAProxy's view; null before the first read, when HAProxy could not be read, or does not have this server (yet). */
  readonly haproxy: ServerRuntime | null;
}

/** One point of a traffic chart (one per `HaproxyStatus.historyStepSeconds`). */
export interface TrafficPoint {
  readonly at: string;
  readonly currentSessions: number;
  readonly requestsPerSecond: number;
  readonly http5xxPerSecond: number;
}

/** A frontend or backend's traffic. Rates are over the last read interval (counter deltas), 0 on the first read. */
export interface ProxyTraffic {
  readonly name: string;
  /** HAProxy's status of the proxy: OPEN/STOP for frontends, UP/DOWN for backends. */
  readonly status: string;
  readonly currentSessions: number;
  /** HTTP requests per second (sessions per second for TCP proxies). */
  readonly requestsPerSecond: number;
  readonly http5xxPerSecond: number;
  readonly requestsTotal: number;
  readonly http5xxTotal: number;
  /** Oldest first, at most `HaproxyStatus.historyPoints` points. */
  readonly history: readonly TrafficPoint[];
}

/** HAProxy's runtime state, read with `show stat` every --haproxy-stats-interval. */
export interface HaproxyStatus {
  /** False in --command mode or with --haproxy-stats-interval 0: nothing is read, the other fields are empty. */
  readonly enabled: boolean;
  /** The last successful read; null before it. */
  readonly readAt: string | null;
  readonly secondsSinceRead: number | null;
  /** Why the last read failed (HAProxy not running, timeout, …); null when it succeeded. */
  readonly error: string | null;
  readonly intervalSeconds: number;
  /** Spacing of `history` points, and how many are kept (a ring). */
  readonly historyStepSeconds: number;
  readonly historyPoints: number;
  /**
   * Servers by HAProxy state, over every backend HAProxy runs (servers added through the runtime API
   * included); null when HAProxy could not be read (its state is unknown then, not zero).
   */
  readonly serversByState: Readonly<Record<HaproxyServerState, number>> | null;
  readonly frontends: readonly ProxyTraffic[];
  /** Every backend HAProxy runs, the services' and any other (e.g. a template's). */
  readonly backends: readonly ProxyTraffic[];
}

export interface ServiceStatus {
  readonly appId: string;
  readonly servicePort: number;
  readonly backend: string;
  readonly mode: string;
  readonly hostname: string | null;
  readonly path: string | null;
  /** The backend's traffic (same object as in `haproxy.backends`); null until HAProxy has been read. */
  readonly traffic: ProxyTraffic | null;
  readonly servers: readonly ServerStatus[];
}

export interface ApplyRecord {
  readonly at: string;
  readonly reloaded: boolean;
  readonly reasons: readonly string[];
  readonly runtimeOps: number;
  /** From `applying` to `applied`; null for a SIGUSR1 reload of the config on disk. */
  readonly durationMs: number | null;
  /** Unified diff of haproxy.cfg, previous → new ('' when the config text did not change). */
  readonly diff: string;
}

export interface FailureRecord {
  readonly at: string;
  /** stage-error: an unexpected exception (a bug) caught in the pipeline; its error names the stage and app. */
  readonly kind: 'fetch-failed' | 'snapshot-invalid' | 'stage-error' | 'apply-failed';
  readonly error: string;
  /** fetch-failed and apply-failed: when it is tried again. */
  readonly retryInMs: number | null;
  readonly durationMs: number | null;
}

/** What `/healthz` answers. */
export type Health = { readonly healthy: true } | { readonly healthy: false; readonly reason: string };
