import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { joinedChunks, MAX_BODY_BYTES, type BodySink } from './bodySink';

/**
 * A small HTTP(S) request helper on node:http/https: explicit TLS trust, marathon-lb's timeouts
 * on every request (requests' `timeout=(3.05, 46)`: a connect timeout, and a read timeout that
 * bounds each silence — until the response head, then between two parts of the body — never the
 * whole transfer, so a slow but flowing `/v2/apps` of a big cluster completes), errors a user can
 * read. No redirects, no auth, no retries: src/marathon/client.ts adds
 * those. Every call opens its own connection (`agent: false`), so nothing lingers after a call.
 */

export type MarathonErrorKind =
  | 'connect' // refused, reset, unreachable, DNS
  | 'timeout'
  | 'tls' // certificate not trusted / wrong name
  | 'aborted' // cancelled by the caller
  | 'http' // an HTTP status we cannot use
  | 'redirect' // too many or broken redirects
  | 'invalid-json'
  | 'auth' // credentials missing/invalid, DC/OS login failed
  | 'config' // bad URL or option
  | 'unreachable' // every Marathon URL failed
  | 'stream'; // the event stream ended or broke

/** One clear line for the user; `kind` for code that reacts to it. Never carries secrets. */
export class MarathonError extends Error {
  constructor(
    readonly kind: MarathonErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'MarathonError';
  }
}

/** How a certificate is checked. Built once from the caller's caCert/insecure. */
export interface TlsTrust {
  readonly ca?: readonly string[];
  readonly rejectUnauthorized: boolean;
}

export function tlsTrust(caCert: string | undefined, insecure: boolean | undefined): TlsTrust {
  if (insecure) return { rejectUnauthorized: false };
  // A private CA is added to the public roots: a leader redirect may lead elsewhere.
  if (caCert) return { ca: [...tls.rootCertificates, caCert], rejectUnauthorized: true };
  return { rejectUnauthorized: true };
}

export interface HttpRequestSpec {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * The read timeout: longest silence from the server, from the connection until the response
   * head and (requestHttp) between two chunks of the body. Not a bound on the whole transfer.
   */
  readonly timeoutMs: number;
  /** Until the TCP connection is made, name lookup included (default: timeoutMs). */
  readonly connectTimeoutMs?: number;
  readonly trust: TlsTrust;
  readonly signal?: AbortSignal;
  /** requestHttp: longest body accepted, compressed and decompressed (default MAX_BODY_BYTES). */
  readonly maxBodyBytes?: number;
  /**
   * requestHttp: longest the whole exchange may take, however the bytes come (default: none; a
   * controller's read of a big Marathon goes on while bytes come). One that trickles a byte a second
   * held zdd, which has a deadline to keep, for good.
   */
  readonly totalTimeoutMs?: number;
  /** requestHttp: where the body's bytes gather (default: its chunks, joined at the end). */
  readonly sink?: BodySink;
}

export interface HttpResponseHead {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly url: string;
}

export interface StreamingResponse extends HttpResponseHead {
  readonly body: http.IncomingMessage;
  /** Drop the connection (idempotent). */
  close(): void;
}

export interface BufferedResponse extends HttpResponseHead {
  readonly body: Buffer;
}

/** The URL without user:password, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return '<invalid URL>';
  }
}

const CONNECT_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
};

function classify(err: unknown): MarathonError {
  if (err instanceof MarathonError) return err;
  const e = err as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (e.name === 'AbortError' || code === 'ABORT_ERR') return new MarathonError('aborted', 'request cancelled');
  // Trusted, but for other names: a CA given would not help (the advice below misled an operator).
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return new MarathonError(
      'tls',
      `TLS certificate does not name the host asked (${code}): use a Marathon URL with a name the certificate holds`,
    );
  if (/CERT|SELF_SIGNED|TLS|SSL|ISSUER|ALTNAME|VERIFY|SIGNATURE|CHAIN/.test(code)) {
    return new MarathonError('tls', `TLS certificate not trusted (${code}): give the CA with --marathon-ca-cert`);
  }
  const reason = CONNECT_REASONS[code];
  if (reason) return new MarathonError('connect', `${reason} (${code})`);
  // OpenSSL's text is its error stack with source file paths; its reason is the part people read.
  const ssl = typeof e.message === 'string' ? /:SSL routines:[^:]*:([^:]+):/.exec(e.message) : null;
  if (ssl !== null)
    return new MarathonError(
      'tls',
      `TLS failed: ${ssl[1]}${code ? ` (${code})` : ''}${ssl[1] === 'wrong version number' ? ': is that URL https but the server plain HTTP?' : ''}`,
    );
  const msg = typeof e.message === 'string' ? e.message : String(err);
  return new MarathonError('connect', code ? `${msg} (${code})` : msg);
}

/** Sends the request and resolves at the response head; the body is left to the caller to read. */
export function openHttp(spec: HttpRequestSpec): Promise<StreamingResponse> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(spec.url);
    } catch {
      reject(new MarathonError('config', `invalid URL ${JSON.stringify(displayUrl(spec.url))}`));
      return;
    }
    const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!mod) {
      reject(new MarathonError('config', `unsupported URL scheme ${url.protocol} in ${displayUrl(spec.url)}`));
      return;
    }
    if (spec.signal?.aborted) {
      reject(new MarathonError('aborted', 'request cancelled'));
      return;
    }
    const headers: Record<string, string> = { ...spec.headers };
    if (url.username && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      headers['Authorization'] = 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
    }
    if (spec.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(spec.body));
    const options: https.RequestOptions = {
      method: spec.method,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: url.pathname + url.search,
      headers,
      agent: false,
      rejectUnauthorized: spec.trust.rejectUnauthorized,
      ...(spec.trust.ca ? { ca: [...spec.trust.ca] } : {}),
    };

    let settled = false;
    let response: http.IncomingMessage | undefined;
    const req = mod.request(options);
    const close = (): void => {
      response?.destroy();
      req.destroy();
    };
    const onAbort = (): void => {
      const err = new MarathonError('aborted', 'request cancelled');
      if (response) response.destroy(err);
      req.destroy(err);
    };
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    // First the connect timeout, then (once connected) the read timeout until the response head.
    const connectMs = spec.connectTimeoutMs ?? spec.timeoutMs;
    let timer = setTimeout(
      () => req.destroy(new MarathonError('timeout', `could not connect within ${connectMs} ms`)),
      connectMs,
    );
    req.on('socket', (s) => {
      s.setKeepAlive(true, 30_000);
      s.once('connect', () => {
        clearTimeout(timer);
        if (settled) return;
        timer = setTimeout(
          () => req.destroy(new MarathonError('timeout', `no response within ${spec.timeoutMs} ms`)),
          spec.timeoutMs,
        );
      });
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      settled = true;
      response = res;
      res.on('close', () => spec.signal?.removeEventListener('abort', onAbort));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, url: spec.url, body: res, close });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      spec.signal?.removeEventListener('abort', onAbort);
      reject(classify(err));
    });
    req.end(spec.body);
  });
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotliDecompress = promisify(zlib.brotliDecompress);

/** On libuv's threads: a gzipped 20 MB /v2/apps took the event loop ~60 ms to inflate in place. */
async function decode(body: Buffer, encoding: string | undefined, maxOutputLength: number): Promise<Buffer> {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzip(body, { maxOutputLength });
    case 'deflate':
      return inflate(body, { maxOutputLength });
    case 'br':
      return brotliDecompress(body, { maxOutputLength });
    default:
      return body;
  }
}

/**
 * Sends the request and reads the whole (decompressed) body. openHttp bounds the connection and the
 * wait for the head; here each silence within the body is bounded by `timeoutMs` (the read timeout).
 */
export function requestHttp(spec: HttpRequestSpec): Promise<BufferedResponse> {
  if (spec.totalTimeoutMs === undefined) return readWhole(spec);
  const total = spec.totalTimeoutMs;
  const whole = new AbortController();
  const outer = spec.signal;
  const forward = (): void => whole.abort();
  if (outer?.aborted === true) whole.abort();
  outer?.addEventListener('abort', forward, { once: true });
  let overdue = false;
  const deadline = setTimeout(() => {
    overdue = true;
    whole.abort();
  }, total);
  return readWhole({ ...spec, signal: whole.signal }).then(
    (res) => {
      clearTimeout(deadline);
      outer?.removeEventListener('abort', forward);
      return res;
    },
    (e: unknown) => {
      clearTimeout(deadline);
      outer?.removeEventListener('abort', forward);
      throw overdue ? new MarathonError('timeout', `response not complete within ${total} ms`) : e;
    },
  );
}

function readWhole(spec: HttpRequestSpec): Promise<BufferedResponse> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const fail = (err: unknown): void => {
      clearTimeout(timer);
      reject(
        timedOut
          ? new MarathonError('timeout', `response not complete within ${spec.timeoutMs} ms of silence`)
          : classify(err),
      );
    };
    openHttp({ ...spec, headers: { 'Accept-Encoding': 'gzip, deflate', ...spec.headers } }).then((res) => {
      const silence = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => ((timedOut = true), res.close()), spec.timeoutMs);
      };
      silence();
      let sink: BodySink | null = spec.sink ?? joinedChunks();
      const max = spec.maxBodyBytes ?? MAX_BODY_BYTES;
      let size = 0;
      let done = false;
      res.body.on('data', (c: Buffer) => {
        if (done) return;
        if ((size += c.length) > max) {
          done = true;
          sink = null;
          res.close();
          clearTimeout(timer);
          reject(new MarathonError('http', `response body larger than ${max} bytes`));
          return;
        }
        sink!.push(c);
        silence();
      });
      res.body.on('error', (err) => {
        if (done) return;
        done = true;
        fail(err);
      });
      res.body.on('close', () => {
        if (done) return;
        done = true;
        if (!res.body.complete) {
          fail(new MarathonError('connect', 'connection closed before the response was complete'));
          return;
        }
        clearTimeout(timer);
        decode(sink!.bytes(), res.headers['content-encoding'], max).then(
          (body) => resolve({ status: res.status, headers: res.headers, url: res.url, body }),
          (e: unknown) => {
            const tooLarge = (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
            reject(
              new MarathonError(
                'connect',
                tooLarge
                  ? `response body larger than ${max} bytes once decompressed`
                  : 'response body could not be decompressed',
              ),
            );
          },
        );
      });
    }, fail);
  });
}
