import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Logger } from '../log';
import { dashboardPage } from './dashboard';
import { keepConnectionsUnder } from './heldConnections';
import { RecentBody, type Body } from './recentBody';
import { jsonChunks } from './slicedJson';
import { ResponsesInFlight } from './responsesInFlight';
import { wellFormedJson } from '../wellFormedJson';

export interface AdminServerOptions {
  /** --admin-bind (default 127.0.0.1: loopback only). */
  readonly bind?: string;
  /** --admin-port (0 = any free port; see `url`). */
  readonly port: number;
  /** --admin-token: when set, /metrics and /status need `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly metrics: { readonly contentType: string; text(): Promise<string> };
  /** `version` changes when `status()` does, but for the passing of time (StatusBook.version). */
  readonly status: {
    status(): unknown;
    /** status() as it is sent: its long lists may be made as they are printed (slicedJson.ts LazyItems). */
    statusToSend?(): unknown;
    version(): number;
    /** What status() shows that takes long to make, made first without holding the event loop. */
    prepare?(): Promise<void>;
  };
  /** What `/healthz` answers: 200 `ok`, or 503 with the reason (default: always healthy). */
  readonly health?: () => { readonly healthy: true } | { readonly healthy: false; readonly reason: string };
  readonly logger: Logger;
  /** Milliseconds of a monotonic clock (default performance.now): how long a /status body is shared. */
  readonly now?: () => number;
  /** Connections held at once (adminConnectionCap of the open files limit by default). */
  readonly maxConnections?: number;
  /** What `POST /_mlb_signal/hup|usr1` does (HAProxy's Lua asks it, see SIGNAL_HEADER); absent: 404. */
  readonly signal?: (signal: 'hup' | 'usr1') => void;
}

/**
 * The header `POST /_mlb_signal/*` needs: a browser cannot send it to another origin without asking
 * first (CORS), so a web page cannot make the operator's browser reload HAProxy. HAProxy's Lua sends it.
 */
export const SIGNAL_HEADER = 'x-marathon-lb-signal';

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

type Route = 'metrics' | 'status' | 'dashboard' | 'healthz' | 'hup' | 'usr1';
const ROUTES: Readonly<Record<string, Route>> = {
  '/metrics': 'metrics',
  '/status': 'status',
  '/': 'dashboard',
  '/healthz': 'healthz',
  '/_mlb_signal/hup': 'hup',
  '/_mlb_signal/usr1': 'usr1',
};
/**
 * Routes anyone who reaches the port may use: a liveness probe, the page, which holds no data, and the
 * signals, which HAProxy's stats port offers anyone already (HAProxy's Lua asks them here, without the token).
 */
const PUBLIC: ReadonlySet<Route> = new Set(['healthz', 'dashboard', 'hup', 'usr1']);

/** A /status body longer than this (compact) is sent compact: indenting a big cluster's adds ~60 %. */
const INDENTED_STATUS_MAX = 1 << 20;
const NEWLINE = Buffer.from('\n');

/** Lets the event loop run (other requests, /healthz) between slices of a big /status body. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How long one `/status` body serves the requests for it while nothing changes (RecentBody). */
export const STATUS_SHARED_MS = 1000;
/**
 * Responses of /status and /metrics being sent at once; more get 503 with Retry-After until some are
 * done. A dashboard sends one of each at a time, Prometheus one: this bounds what a flood of slow
 * readers holds (each keeps its response object and its unsent bytes) without touching them.
 */
export const MAX_DATA_RESPONSES = 32;

/**
 * Connections the admin API holds at once, given the process's limit of open files: a quarter of
 * it, 16 to 1 024; past it the longest idle is closed for a new one (logged, once a minute). Each holds a file
 * descriptor of the controller: 500 idle connections used up a limit of 256, and Marathon reads,
 * HAProxy's socket and the config files failed with EMFILE, so no change was applied while they
 * stayed (helper 74). A dashboard, Prometheus and probes need a few.
 */
export function adminConnectionCap(openFiles: number | undefined): number {
  return openFiles === undefined ? 1024 : Math.min(1024, Math.max(16, Math.floor(openFiles / 4)));
}

/** The soft "Max open files" of this process (/proc/self/limits), undefined when unknown or unlimited. */
function openFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
const DROPS_LOGGED_EVERY_MS = 60_000;
/** A connection whose answer makes no progress this long (its reader reads nothing) is closed. */
const ANSWER_STALLED_MS = 30_000;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of `Authorization: Bearer <token>` (both sides hashed to equal length first). */
function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  const given = digest(m?.[1] ?? '');
  return timingSafeEqual(given, expected) && m !== null;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer | Body,
  headers: Record<string, string> = {},
): void {
  const pieces = typeof body === 'string' || Buffer.isBuffer(body) ? [body] : body;
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': pieces.reduce((n, p) => n + Buffer.byteLength(p), 0),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  if (res.req.method !== 'HEAD') for (const p of pieces) res.write(p);
  res.end();
}

/**
 * Where HAProxy's Lua asks for the signals (env MARATHON_LB_SIGNAL_URL): the admin API at a fixed
 * port, through loopback when it listens on every address. Undefined (the Lua then uses `kill`) for
 * any port (0) and for IPv6 or named binds, which the Lua does not connect to.
 */
export function adminSignalUrl(bind: string, port: number): string | undefined {
  if (port <= 0) return undefined;
  if (bind === '0.0.0.0' || bind === '::') return `http://127.0.0.1:${port}`;
  return isIP(bind) === 4 ? `http://${bind}:${port}` : undefined;
}

/**
 * Whether an address the admin API listens on is the loopback, in any spelling Node listens on:
 * `0:0:0:0:0:0:0:1` and `::ffff:127.0.0.1` were taken for other addresses, so a rebound DNS name was
 * served /status (found by an audit).
 */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) !== 6) return false;
  const short = new URL(`http://[${host}]/`).hostname.slice(1, -1); // as URL writes it: ::1, ::ffff:7f00:1
  return short === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(short);
}

/**
 * The path of a request's target, or null when it is none: `//…` is read by URL as a host, not a
 * path (`//status` was `/`, the dashboard), and `//a:99999/` or `//[` make it throw.
 */
function requestPath(req: IncomingMessage): string | null {
  const target = req.url ?? '/';
  if (target.startsWith('//')) return null;
  try {
    return new URL(target, 'http://admin').pathname;
  } catch {
    return null;
  }
}

/** A Host header naming an address, not a DNS name: an IP literal or localhost, with a port or not. */
function addressHost(host: string | undefined): boolean {
  if (host === undefined) return true; // HTTP/1.0 without Host: no name to have been rebound
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return name === 'localhost' || isIP(name) !== 0;
}

/**
 * The controller's own HTTP API: `GET /metrics` (Prometheus), `GET /status` (JSON), `GET /`
 * (dashboard), `GET /healthz` (503 with a reason when routing lags behind Marathon, see
 * StatusBook.health). Loopback by default; with a token every data route needs it.
 */
export function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const bind = opts.bind ?? '127.0.0.1';
  const { logger } = opts;
  const token = opts.token !== undefined && opts.token !== '' ? digest(opts.token) : null;
  const hostChecked = token === null && isLoopback(bind);
  const statusBody = new RecentBody(
    async () => {
      await opts.status.prepare?.();
      const status = opts.status.statusToSend?.() ?? opts.status.status();
      const compact = await jsonChunks(status, nextTurn);
      // Indented for people reading it with curl, unless that would make a big body bigger still.
      if (compact.chars <= INDENTED_STATUS_MAX)
        return [Buffer.from(`${wellFormedJson(JSON.stringify(status, null, 2))}\n`, 'utf8')];
      return [...compact.chunks, NEWLINE];
    },
    STATUS_SHARED_MS,
    opts.now ?? (() => performance.now()),
  );
  const dataResponses = new ResponsesInFlight();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = requestPath(req);
    if (path === null) return send(res, 400, 'text/plain; charset=utf-8', 'bad request: the target is not a path\n');
    const route = ROUTES[path];
    if (route === undefined || !PUBLIC.has(route)) {
      // On loopback without a token the API trusts local processes; a web page whose DNS name was
      // rebound to 127.0.0.1 runs in the operator's browser, local too: it is told apart by its Host.
      if (hostChecked && !addressHost(req.headers.host)) {
        return send(
          res,
          403,
          'text/plain; charset=utf-8',
          'forbidden: on loopback without --admin-token the admin API answers requests to an address only (Host: an IP address or localhost)\n',
        );
      }
      if (token !== null && !authorized(req, token)) {
        return send(
          res,
          401,
          'text/plain; charset=utf-8',
          'unauthorized: send Authorization: Bearer <--admin-token>\n',
          { 'WWW-Authenticate': 'Bearer realm="marathon-lb"' },
        );
      }
    }
    const signal = route === 'hup' || route === 'usr1' ? route : undefined;
    if (route === undefined || (signal !== undefined && opts.signal === undefined))
      return send(res, 404, 'text/plain; charset=utf-8', `not found: ${path} (try /, /status, /metrics, /healthz)\n`);
    if (signal !== undefined) {
      if (req.method !== 'POST')
        return send(res, 405, 'text/plain; charset=utf-8', `method ${req.method} not allowed on ${path}\n`, {
          Allow: 'POST',
        });
      if (req.headers[SIGNAL_HEADER] === undefined)
        return send(res, 403, 'text/plain; charset=utf-8', `forbidden: ${path} needs the ${SIGNAL_HEADER} header\n`);
      opts.signal!(signal);
      return send(res, 200, 'text/plain; charset=utf-8', `Sent SIG${signal.toUpperCase()} signal to marathon-lb\n`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'text/plain; charset=utf-8', `method ${req.method} not allowed on ${path}\n`, {
        Allow: 'GET, HEAD',
      });
    }
    if (route === 'status' || route === 'metrics') {
      if (dataResponses.count >= MAX_DATA_RESPONSES)
        return send(
          res,
          503,
          'text/plain; charset=utf-8',
          `busy: ${dataResponses.count} responses of /status and /metrics are being sent; try again\n`,
          { 'Retry-After': '1' },
        );
      dataResponses.add(res, req.socket);
    }
    switch (route) {
      case 'healthz': {
        const h = opts.health?.() ?? { healthy: true };
        return h.healthy
          ? send(res, 200, 'text/plain; charset=utf-8', 'ok\n')
          : send(res, 503, 'text/plain; charset=utf-8', `unhealthy: ${h.reason}\n`);
      }
      case 'metrics':
        return send(res, 200, opts.metrics.contentType, await opts.metrics.text());
      case 'status':
        return send(res, 200, 'application/json; charset=utf-8', await statusBody.get(opts.status.version()));
      case 'dashboard': {
        const page = dashboardPage();
        if (!page.ok) throw new Error(page.error);
        return send(res, 200, 'text/html; charset=utf-8', page.value.html, {
          'Content-Security-Policy': page.value.csp,
          'Referrer-Policy': 'no-referrer',
          'X-Frame-Options': 'DENY',
        });
      }
    }
  };

  // Connections that send no whole request head within headersTimeout (counted from the connection's
  // start, so a silent one too) are closed within a second of it, not at Node's 30 s check (idle
  // sockets held the cap meanwhile).
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const msg = err instanceof Error ? err.message : String(err);
      logger.error(`admin API: ${req.method} ${requestPath(req) ?? '(bad target)'} failed: ${msg}`);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${msg}\n`);
      else res.destroy();
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  const cap = opts.maxConnections ?? adminConnectionCap(openFilesLimit());
  let droppedSince: number | null = null;
  let dropped = 0;
  keepConnectionsUnder(
    server,
    cap,
    () => {
      dropped++;
      const now = opts.now?.() ?? Date.now();
      if (droppedSince !== null && now - droppedSince < DROPS_LOGGED_EVERY_MS) return;
      logger.warn(
        `admin API: ${dropped} connection(s) closed to keep ${cap} open at most, the least recently used first (each holds one of the controller's file descriptors)`,
      );
      droppedSince = now;
      dropped = 0;
    },
    ANSWER_STALLED_MS,
  );

  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`admin API: cannot listen on ${bind}:${opts.port}: ${err.code ?? err.message}`)),
    );
    server.listen({ host: bind, port: opts.port }, () => {
      server.on('error', (err) => logger.error(`admin API: ${err.message}`));
      const { port } = server.address() as AddressInfo;
      const url = `http://${bind.includes(':') ? `[${bind}]` : bind}:${port}`;
      logger.info(
        `admin API on ${url} (/, /status, /metrics, /healthz)${token === null ? '' : '; /status and /metrics need the admin token'}`,
      );
      if (token === null && !isLoopback(bind))
        logger.warn(
          `admin API listens on ${bind} without --admin-token: anyone who can reach it can read the config and status`,
        );
      resolve({
        url,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
