import type { AuthOptions } from './auth';

/** Options of Simulator.start (the CLI maps its flags onto these). */
export interface LeaderOptions {
  /** When set, this instance is not the leader: every /v2 request is redirected to this base URL. */
  readonly redirectTo?: string;
  /** 307 (default) or 302. */
  readonly status?: 302 | 307;
}

export interface SimulatorOptions {
  /** Bind address (default 127.0.0.1). */
  readonly host?: string;
  /** Port (default 0 = any free port; see `port`/`url` after start). */
  readonly port?: number;
  /** Initial app definitions (Marathon app JSON). */
  readonly apps?: readonly unknown[];
  /** Give each task real HTTP listeners on `taskHost` (OS-assigned ports). */
  readonly serveTasks?: boolean;
  /**
   * With serveTasks: only tasks of apps this accepts get real listeners; the others keep fake ports
   * nothing listens on. At scale (10 000 apps × 3 tasks) serve the few apps a test talks to, not
   * 30 000 servers. Default: every app.
   */
  readonly serveTasksOf?: (appId: string) => boolean;
  /**
   * Time `GET /v2/apps` takes per app, like a big Marathon (0.5 → 5 s at 10 000 apps). The body is
   * streamed progressively over that time, bytes flowing all along. Default 0 (answer at once).
   */
  readonly appsLatencyPerAppMs?: number;
  /** Host of the tasks (default 127.0.0.1). */
  readonly taskHost?: string;
  readonly auth?: AuthOptions;
  readonly leader?: LeaderOptions;
  /** Serve HTTPS with this PEM key and certificate. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Interval of the heartbeat (CRLF) on /v2/events; 0 = none. Default 10 000, as Marathon's Jetty. */
  readonly keepAliveMs?: number;
  /** Random part of task ids (default: random). Fix it for reproducible ids. */
  readonly seed?: string;
  /**
   * Runs Marathon's clock: real seconds per Marathon second (0.01: a 300 s grace period lasts 3 s).
   * Then new tasks of health-checked apps stay unchecked (not routed) until their `gracePeriodSeconds`
   * are over, tasks of apps with readinessChecks are not ready until `readyAfterSeconds` later, and
   * deployments last until both (`/v2/deployments`, 409 on changes without `?force=true`). Default:
   * unset, everything happens at once.
   */
  readonly timeScale?: number;
  /** With timeScale: Marathon seconds from healthy to ready (default: the check's intervalSeconds; Infinity = only by setReady). */
  readonly readyAfterSeconds?: number;
  /**
   * With serveTasks: a task that is not ready answers 503 on every path but its health-check paths (an
   * app still warming up), so requests routed to it fail. Default: only its readiness paths say 503.
   */
  readonly notReadyAnswers503?: boolean;
  /** Wall clock (default `() => new Date()`). */
  readonly now?: () => Date;
}
