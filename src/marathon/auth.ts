import * as crypto from 'node:crypto';
import { err, ok } from '../result';
import type { BasicCredentials } from './credentials';
import type { Validation } from './eventTypes';
import { MarathonError, TlsTrust, displayUrl, requestHttp, tlsTrust } from './http';

/**
 * Credentials towards Marathon: HTTP basic (--auth-credentials / --marathon-auth-credential-file)
 * or a DC/OS service account (--dcos-auth-credentials): an RS256 JWT `{uid, exp}` signed with the
 * account's private key is exchanged at `login_endpoint` for a token sent as
 * `Authorization: token=<token>`. Secrets never enter a message; `secrets()` lets the client scrub
 * anything it logs as a second line of defence.
 */
export interface AuthProvider {
  /** The Authorization header for the next request (may log in first), or undefined. */
  header(): Promise<string | undefined>;
  /**
   * Called after a 401 answered a request sent with `rejected`. Resolves true when new
   * credentials are ready and one retry makes sense; rejects when a new login fails.
   */
  renew(rejected: string | undefined): Promise<boolean>;
  /** Strings that must never appear in logs or errors. */
  secrets(): readonly string[];
}

export function basicAuth(creds: BasicCredentials): AuthProvider {
  const token = Buffer.from(`${creds.user}:${creds.password}`).toString('base64');
  const header = `Basic ${token}`;
  return {
    header: () => Promise.resolve(header),
    renew: () => Promise.resolve(false),
    secrets: () => [creds.password, token, `${creds.user}:${creds.password}`],
  };
}

export interface DcosCredentials {
  readonly uid: string;
  readonly privateKey: string;
  readonly loginEndpoint: string;
}

/** Parses the service-account JSON `{"uid","private_key","login_endpoint"}`. */
export function parseDcosCredentials(json: string, source = '--dcos-auth-credentials'): Validation<DcosCredentials> {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return err(`${source}: not valid JSON (expected {"uid","private_key","login_endpoint"})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return err(`${source}: expected a JSON object with uid, private_key, login_endpoint`);
  }
  const o = v as Record<string, unknown>;
  for (const k of ['uid', 'private_key', 'login_endpoint']) {
    if (typeof o[k] !== 'string' || o[k] === '') return err(`${source}: "${k}" must be a non-empty string`);
  }
  const privateKey = o['private_key'] as string;
  try {
    crypto.createPrivateKey(privateKey);
  } catch {
    return err(`${source}: "private_key" is not a PEM private key`);
  }
  const loginEndpoint = o['login_endpoint'] as string;
  if (!/^https?:\/\//.test(loginEndpoint)) {
    return err(`${source}: "login_endpoint" must be an http(s) URL`);
  }
  return ok({ uid: o['uid'] as string, privateKey, loginEndpoint });
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** The RS256 login JWT `{uid, exp}` (exp in seconds, `validForS` after `nowMs`). */
function serviceLoginJwt(uid: string, privateKey: string, nowMs: number, validForS = 60): string {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ uid, exp: Math.floor(nowMs / 1000) + validForS }));
  const sig = crypto.sign('sha256', Buffer.from(`${head}.${body}`), privateKey);
  return `${head}.${body}.${b64url(sig)}`;
}

export interface DcosAuthOptions {
  readonly credentials: DcosCredentials;
  readonly caCert?: string;
  readonly insecure?: boolean;
  /** Read timeout (longest silence), as for Marathon requests. */
  readonly timeoutMs: number;
  /** Connect timeout (default: timeoutMs). */
  readonly connectTimeoutMs?: number;
  readonly logger: { info(msg: string): void };
  /** Wall clock in ms for the JWT's exp (default Date.now). */
  readonly now?: () => number;
}

function cookieToken(setCookie: readonly string[] | undefined): string | undefined {
  for (const c of setCookie ?? []) {
    const m = /^\s*dcos-acs-auth-cookie=([^;]+)/.exec(c);
    if (m) return m[1];
  }
  return undefined;
}

/** DC/OS service-account login: lazy, shared by concurrent requests, renewed after a 401. */
export function dcosAuth(opts: DcosAuthOptions): AuthProvider {
  const { uid, privateKey, loginEndpoint } = opts.credentials;
  const trust: TlsTrust = tlsTrust(opts.caCert, opts.insecure);
  const now = opts.now ?? (() => Date.now());
  let recent: string[] = []; // latest JWTs and tokens (older JWTs have expired anyway)
  const remember = (secret: string): void => {
    recent = [...recent, secret].slice(-6);
  };
  let current: string | undefined;
  let pending: Promise<string> | undefined;

  const login = async (): Promise<string> => {
    const where = displayUrl(loginEndpoint);
    const jwt = serviceLoginJwt(uid, privateKey, now());
    remember(jwt);
    opts.logger.info(`DC/OS login as service account "${uid}" at ${where}`);
    let res;
    try {
      res = await requestHttp({
        method: 'POST',
        url: loginEndpoint,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': 'marathon-lb' },
        body: JSON.stringify({ uid, token: jwt }),
        timeoutMs: opts.timeoutMs,
        ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
        trust,
      });
    } catch (e) {
      const why = e instanceof MarathonError ? e.message : 'request failed';
      throw new MarathonError('auth', `DC/OS login for "${uid}" at ${where} failed: ${why}`);
    }
    if (res.status < 200 || res.status > 299) {
      throw new MarathonError(
        'auth',
        `DC/OS login for "${uid}" at ${where} was refused: HTTP ${res.status}`,
        res.status,
      );
    }
    let token: string | undefined;
    try {
      const t = (JSON.parse(res.body.toString('utf8')) as { token?: unknown }).token;
      if (typeof t === 'string' && t !== '') token = t;
    } catch {
      /* fall back to the cookie, like marathon-lb */
    }
    token ??= cookieToken(res.headers['set-cookie']);
    if (!token) throw new MarathonError('auth', `DC/OS login for "${uid}" at ${where} returned no token`);
    remember(token);
    return `token=${token}`;
  };

  const fresh = (): Promise<string> => {
    pending ??= login().then(
      (h) => {
        current = h;
        pending = undefined;
        return h;
      },
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    );
    return pending;
  };

  return {
    header: () => (current !== undefined ? Promise.resolve(current) : fresh()),
    renew: async (rejected) => {
      // Another request may have logged in again meanwhile: then just retry with that token.
      if (current !== undefined && current !== rejected) return true;
      current = undefined;
      await fresh();
      return true;
    },
    secrets: () => [privateKey, ...recent, ...(current ? [current] : [])],
  };
}
