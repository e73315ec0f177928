import { TooManyAppsError } from './appsBound';
import { bomLength } from './appsBody';
import type { AuthProvider } from './auth';
import { basicAuth } from './auth';
import type { BodySink } from './bodySink';
import {
  BufferedResponse,
  HttpResponseHead,
  MarathonError,
  StreamingResponse,
  TlsTrust,
  openHttp,
  requestHttp,
  tlsTrust,
} from './http';
import { withoutCredentials } from './credentials';

export interface MarathonLogger {
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

export interface MarathonClientOptions {
  /** Marathon base URLs (e.g. http://marathon1:8080), tried in order. */
  readonly urls: readonly string[];
  readonly auth?: AuthProvider;
  /** PEM text of a private CA that signed Marathon's certificate. */
  readonly caCert?: string;
  /** Skip certificate verification (the caller logs the warning). */
  readonly insecure?: boolean;
  /** Read timeout (longest silence) per request and per redirect hop: marathon-lb's 46 s. */
  readonly timeoutMs: number;
  /** Connect timeout per request and hop: marathon-lb's 3.05 s (default: timeoutMs). */
  readonly connectTimeoutMs?: number;
  /** Longest a whole JSON request and its answer may take per hop, however the bytes come (default: none). */
  readonly totalTimeoutMs?: number;
  readonly logger: MarathonLogger;
}

/** What src/marathon/events.ts needs from a client: where to connect, and an authenticated GET. */
export interface EventStreamSource {
  /** The base URL requests go to now (the last one that worked). */
  currentUrl(): string;
  /** GET `url` (absolute) with auth, TLS and leader redirects; resolves at a 2xx head, else rejects
   *  with a MarathonError whose message does not repeat the URL. */
  openStream(url: string, signal: AbortSignal): Promise<StreamingResponse>;
  /** `baseUrl` failed to serve: move on to the next URL (if it is still the current one). */
  reportFailure(baseUrl: string, reason: string): void;
  /**
   * An event stream from `baseUrl` is open (true) or over (false): while it is, reads start there,
   * so that snapshots come from the Marathon whose events trigger them.
   */
  streamOpen?(baseUrl: string, open: boolean): void;
  /** Scrubs secrets from a text meant for logs. */
  redact(text: string): string;
  readonly logger: MarathonLogger;
}

/** How an answer's bytes become its value: JSON.parse, or an AppsBodyDecoder for /v2/apps. */
export interface BodyDecoder {
  decode(raw: Buffer): unknown;
  /** Where the bytes gather (requestHttp's default when absent). */
  sink?(): BodySink;
}
/** Any answer past a byte-order mark, as marathon-lb's and zdd.py's requests .json() read it. */
const JSON_BODY: BodyDecoder = { decode: (raw) => JSON.parse(raw.toString('utf8', bomLength(raw))) as unknown };

const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const FAILOVER_KINDS = new Set(['connect', 'timeout', 'tls', 'redirect']);

function normalizeUrl(raw: string): { url: string; user?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new MarathonError('config', `invalid Marathon URL ${JSON.stringify(withoutCredentials(raw))}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new MarathonError('config', `Marathon URL must start with http:// or https://, got ${u.protocol}`);
  }
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const url = (u.origin + u.pathname).replace(/\/+$/, '');
  return user ? { url, user, password } : { url };
}

/** Marathon's `{"message": …}` from an error body, as one short line. */
function marathonMessage(body: Buffer | undefined): string {
  if (!body || body.length === 0) return '';
  try {
    const m = (JSON.parse(body.toString('utf8')) as { message?: unknown }).message;
    if (typeof m === 'string' && m.trim()) return `: ${m.replace(/\s+/g, ' ').trim().slice(0, 200)}`;
  } catch {
    /* not JSON */
  }
  return '';
}

/** Up to 64 KiB of an (error) body, within `timeoutMs`; then the connection is dropped. */
function readSome(res: StreamingResponse, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      clearTimeout(timer);
      res.close();
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(done, timeoutMs);
    res.body.on('data', (c: Buffer) => {
      chunks.push(c);
      if ((size += c.length) >= 65536) done();
    });
    res.body.on('end', done);
    res.body.on('error', done);
    res.body.on('close', done);
  });
}

/**
 * Marathon's REST API over several URLs: requests start at the last URL that worked and fail
 * over to the next on a connection error, timeout, TLS failure or 5xx; 30x from a non-leader are
 * followed (Authorization re-sent only to the origin of a --marathon URL, never from https to http); a
 * 401 with a renewable login (DC/OS) is retried once.
 */
export class MarathonClient implements EventStreamSource {
  readonly logger: MarathonLogger;
  private readonly urls: readonly string[];
  /** Where the credentials may go (exchange). */
  private readonly origins: ReadonlySet<string>;
  private readonly auth: AuthProvider | undefined;
  private readonly trust: TlsTrust;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number | undefined;
  private readonly totalTimeoutMs: number | undefined;
  private current = 0;
  /** The URL an open event stream reads from: reads start there (streamOpen). */
  private streamAt: number | undefined;

  constructor(opts: MarathonClientOptions) {
    if (opts.urls.length === 0) throw new MarathonError('config', 'no Marathon URL given');
    const parsed = opts.urls.map(normalizeUrl);
    this.urls = parsed.map((p) => p.url);
    this.origins = new Set(this.urls.map((u) => new URL(u).origin));
    const withUser = parsed.find((p) => p.user !== undefined);
    this.auth =
      opts.auth ?? (withUser ? basicAuth({ user: withUser.user!, password: withUser.password ?? '' }) : undefined);
    this.trust = tlsTrust(opts.caCert, opts.insecure);
    this.timeoutMs = opts.timeoutMs;
    this.connectTimeoutMs = opts.connectTimeoutMs;
    this.totalTimeoutMs = opts.totalTimeoutMs;
    const redact = (t: string): string => this.redact(t);
    this.logger = {
      warn: (m) => opts.logger.warn(redact(m)),
      info: (m) => opts.logger.info(redact(m)),
      debug: (m) => opts.logger.debug(redact(m)),
    };
  }

  /**
   * GET /v2/apps?embed=apps.tasks: the parsed JSON body (its shape is checked by src/model). With
   * `readiness`, also `embed=apps.readiness` (the apps' readinessCheckResults, for --respect-readiness-checks).
   * `body` turns the body into that value instead of JSON.parse (an AppsBodyDecoder, which reuses
   * the apps that did not change); it throws on invalid JSON as JSON.parse does.
   */
  async getApps(
    opts: { readonly readiness?: boolean; readonly body?: BodyDecoder; readonly signal?: AbortSignal } = {},
  ): Promise<unknown> {
    const path =
      opts.readiness === true ? '/v2/apps?embed=apps.tasks&embed=apps.readiness' : '/v2/apps?embed=apps.tasks';
    const body = await this.requestJson('GET', path, undefined, opts.body, opts.signal);
    // Valid JSON of another shape (`{}`, `{"apps": null}`, `[]`: a proxy's or a broken leader's answer) is a
    // failed read, retried with backoff like one, not a snapshot that says nothing.
    const apps = typeof body === 'object' && body !== null ? (body as { apps?: unknown }).apps : undefined;
    if (!Array.isArray(apps))
      throw new MarathonError(
        'invalid-json',
        this.redact(`GET ${this.currentUrl()}${path}: Marathon answered JSON without an "apps" array`),
      );
    // No app an object: nothing Marathon would send, and no embed lost either (`{"apps": [1, 2]}`).
    if (apps.length > 0 && apps.every((a) => typeof a !== 'object' || a === null || Array.isArray(a)))
      throw new MarathonError(
        'invalid-json',
        this.redact(`GET ${this.currentUrl()}${path}: Marathon answered an "apps" array of no app objects`),
      );
    // Apps without their tasks: the embed was lost on the way (a proxy's rewrite). Routed as they are,
    // every app would lose its servers; like an answer of another shape, it is a failed read.
    if (apps.length > 0 && apps.every((a) => (a as { tasks?: unknown } | null)?.tasks === undefined))
      throw new MarathonError(
        'invalid-json',
        this.redact(
          `GET ${this.currentUrl()}${path}: Marathon answered apps without their tasks (was embed=apps.tasks dropped on the way?)`,
        ),
      );
    return body;
  }

  currentUrl(): string {
    return this.urls[this.current]!;
  }

  streamOpen(baseUrl: string, open: boolean): void {
    const at = this.urls.indexOf(baseUrl);
    if (open) this.streamAt = at < 0 ? undefined : at;
    else if (this.streamAt === at) this.streamAt = undefined;
  }

  reportFailure(baseUrl: string, reason: string): void {
    if (this.urls.length < 2 || this.urls[this.current] !== baseUrl) return;
    this.current = (this.current + 1) % this.urls.length;
    this.logger.info(`Marathon ${baseUrl} failed (${reason}); next attempts go to ${this.currentUrl()}`);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.auth?.secrets() ?? []) if (s.length >= 4) out = out.split(s).join('***');
    return out;
  }

  openStream(url: string, signal: AbortSignal): Promise<StreamingResponse> {
    // `identity`: without an Accept-Encoding any coding is acceptable (RFC 9110), and a proxy's gzip
    // of the stream was read as events: none parsed, yet its bytes kept the stream "connected".
    const headers = {
      Accept: 'text/event-stream',
      'Accept-Encoding': 'identity',
      'Cache-Control': 'no-cache',
      'User-Agent': 'marathon-lb',
    };
    return this.exchange(
      url,
      (u, auth) =>
        openHttp({
          method: 'GET',
          url: u,
          headers: { ...headers, ...auth },
          timeoutMs: this.timeoutMs,
          connectTimeoutMs: this.connectTimeoutMs,
          trust: this.trust,
          signal,
        }),
      (r) => r.close(),
    ).then(async (res) => {
      const coding = String(res.headers['content-encoding'] ?? 'identity')
        .trim()
        .toLowerCase();
      if (res.status >= 200 && res.status < 300 && coding !== 'identity' && coding !== '') {
        res.close();
        throw new MarathonError(
          'stream',
          `answered ${JSON.stringify(coding)}-encoded, though identity was asked: its events cannot be read (a proxy compressing it?)`,
        );
      }
      if (res.status >= 200 && res.status < 300) return res;
      const body = await readSome(res, this.timeoutMs);
      throw this.statusError(undefined, res.status, body, 'GET', true);
    });
  }

  /**
   * One JSON request with failover, leader redirects and auth, as for GETs; `body` is sent as JSON.
   * Resolves to the parsed answer (undefined for an empty body); a non-2xx status rejects.
   */
  async requestJson(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    answer: BodyDecoder = JSON_BODY,
    /** Cancels the request (a shutdown, a fetch no longer wanted): it rejects with an `aborted` MarathonError. */
    signal?: AbortSignal,
  ): Promise<unknown> {
    const n = this.urls.length;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const failures: [string, string][] = [];
    // Each URL once, from the open event stream's, else from the current one: a read that failed
    // over goes back to the stream's Marathon next time, so snapshots and the events that trigger
    // them come from one Marathon. The event stream may move `current` while this waits.
    const first = this.streamAt ?? this.current;
    for (let i = 0; i < n; i++) {
      const idx = (first + i) % n;
      const base = this.urls[idx]!;
      const url = base + path;
      this.logger.debug(`${method} ${url}`);
      let res: BufferedResponse;
      try {
        res = await this.exchange(
          url,
          (u, auth) =>
            requestHttp({
              method,
              url: u,
              headers: {
                Accept: 'application/json',
                'User-Agent': 'marathon-lb',
                ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
                ...auth,
              },
              ...(payload === undefined ? {} : { body: payload }),
              timeoutMs: this.timeoutMs,
              connectTimeoutMs: this.connectTimeoutMs,
              ...(this.totalTimeoutMs === undefined ? {} : { totalTimeoutMs: this.totalTimeoutMs }),
              trust: this.trust,
              ...(answer.sink === undefined ? {} : { sink: answer.sink() }),
              ...(signal === undefined ? {} : { signal }),
            }),
          () => undefined,
        );
      } catch (e) {
        if (!(e instanceof MarathonError) || !FAILOVER_KINDS.has(e.kind)) throw this.clean(e);
        failures.push([base, this.redact(e.message)]);
        if (i + 1 < n) this.logger.info(`${method} ${url} failed: ${e.message}; trying ${this.urls[(idx + 1) % n]}`);
        continue;
      }
      if (res.status >= 500) {
        failures.push([base, `HTTP ${res.status}${marathonMessage(res.body)}`]);
        if (i + 1 < n)
          this.logger.info(`${method} ${url} answered HTTP ${res.status}; trying ${this.urls[(idx + 1) % n]}`);
        continue;
      }
      this.current = idx;
      if (res.status < 200 || res.status > 299) throw this.statusError(url, res.status, res.body, method);
      if (method !== 'GET' && res.body.length === 0) return undefined;
      try {
        return answer.decode(res.body);
      } catch (e) {
        if (e instanceof TooManyAppsError)
          throw new MarathonError('invalid-json', this.redact(`${method} ${url}: ${e.message}`));
        const type = res.headers['content-type'] ?? 'no content-type';
        throw new MarathonError(
          'invalid-json',
          this.redact(`${method} ${url}: Marathon answered with invalid JSON (${type}, ${res.body.length} bytes)`),
        );
      }
    }
    const what =
      n === 1
        ? `${method} ${this.urls[0]}${path} failed: ${failures[0]![1]}`
        : `${method} ${path} failed on every Marathon URL: ${failures.map(([u, why]) => `${u} (${why})`).join('; ')}`;
    throw new MarathonError('unreachable', this.redact(what));
  }

  /** One request with leader redirects and one 401 renewal; 5xx and other statuses are returned. */
  private async exchange<R extends HttpResponseHead>(
    url: string,
    send: (url: string, auth: Record<string, string>) => Promise<R>,
    discard: (r: R) => void,
  ): Promise<R> {
    let target = url;
    let hops = 0;
    let renewed = false;
    // Credentials follow a redirect (a non-leader's, to the leader) only to the origin of a --marathon
    // URL: sent wherever a Marathon answer pointed (marathon-lb's event stream, curl's
    // UNRESTRICTED_AUTH), they reached any host that could put a Location in an answer (an audit).
    // python-requests, marathon-lb's REST client, drops them on another origin too. And never in plain
    // text: not after a redirect from https to http.
    let plainAfterTls = false;
    let foreign = false;
    for (;;) {
      const header = plainAfterTls || foreign ? undefined : await this.authHeader();
      let res: R;
      try {
        res = await send(target, header === undefined ? {} : { Authorization: header });
      } catch (e) {
        // Told as the --marathon URL's, the failure of the leader a redirect named sent the operator
        // to a Marathon that answered (an audit).
        if (hops > 0 && e instanceof MarathonError)
          throw new MarathonError(e.kind, `after a redirect to ${target}: ${e.message}`, e.status);
        throw e;
      }
      const location = res.headers.location;
      if (REDIRECTS.has(res.status) && location) {
        discard(res);
        if (++hops > MAX_REDIRECTS)
          throw new MarathonError('redirect', `more than ${MAX_REDIRECTS} redirects from ${url}`);
        let next: URL;
        try {
          next = new URL(location, target);
        } catch {
          throw new MarathonError('redirect', `redirect from ${target} to an invalid location`);
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          throw new MarathonError('redirect', `redirect from ${target} to a non-HTTP location`);
        }
        next.username = '';
        next.password = '';
        this.logger.debug(`${target} redirects (HTTP ${res.status}) to ${next.href}`);
        if (this.auth && !plainAfterTls && new URL(target).protocol === 'https:' && next.protocol === 'http:') {
          plainAfterTls = true;
          this.logger.warn(
            `${target} redirects to ${next.href}, which is not TLS: following it without the Marathon credentials`,
          );
        }
        const wasForeign = foreign;
        foreign = !this.origins.has(next.origin);
        if (this.auth && !plainAfterTls && foreign && !wasForeign)
          this.logger.warn(
            `${target} redirects to ${next.href}, which is not at a --marathon URL: following it without the Marathon credentials (if it is a Marathon, the leader, add ${next.origin} to --marathon)`,
          );
        target = next.href;
        continue;
      }
      if (res.status === 401 && this.auth && !renewed && !plainAfterTls && !foreign) {
        renewed = true;
        let retry: boolean;
        try {
          retry = await this.auth.renew(header);
        } catch (e) {
          discard(res);
          throw this.clean(e);
        }
        if (retry) {
          discard(res);
          this.logger.info(`${target} answered HTTP 401; logged in again, retrying once`);
          continue;
        }
      }
      return res;
    }
  }

  private async authHeader(): Promise<string | undefined> {
    if (!this.auth) return undefined;
    try {
      return await this.auth.header();
    } catch (e) {
      throw this.clean(e);
    }
  }

  private statusError(
    url: string | undefined,
    status: number,
    body: Buffer | undefined,
    method = 'GET',
    /** The answer to the event stream's request. */
    stream = false,
  ): MarathonError {
    const hint =
      status === 401
        ? ' (check the Marathon credentials)'
        : status === 403
          ? ' (the credentials lack permission)'
          : status === 404 && stream
            ? ' (no event stream there: not a Marathon, or one without /v2/events; without --sse the apps are polled every --resync-interval)'
            : '';
    return new MarathonError(
      status === 401 || status === 403 ? 'auth' : 'http',
      this.redact(`${url ? `${method} ${url}: ` : ''}HTTP ${status}${hint}${marathonMessage(body)}`),
      status,
    );
  }

  private clean(e: unknown): MarathonError {
    if (e instanceof MarathonError) return new MarathonError(e.kind, this.redact(e.message), e.status);
    return new MarathonError('connect', this.redact(e instanceof Error ? e.message : String(e)));
  }
}
