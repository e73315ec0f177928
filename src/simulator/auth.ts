import type { IncomingMessage } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { publicKeyFrom, signHs256, verifyHs256, verifyRs256 } from './jwt';

export interface AuthOptions {
  /** `user:password` for HTTP basic auth (Marathon's `--http_credentials`). */
  readonly basic?: string;
  /** DC/OS strict-mode auth: service login with an RS256 JWT, then `Authorization: token=<t>`. */
  readonly dcos?: {
    /** PEM public key that verifies the service account's login JWTs. */
    readonly publicKey: string;
    /** If set, only this uid may log in. */
    readonly uid?: string;
    /** Lifetime of issued tokens (default 5 days, like DC/OS). */
    readonly tokenTtlMs?: number;
  };
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string | readonly string[]>;
  readonly body: unknown;
}

/**
 * Request authentication of the simulated Marathon. With both modes configured either credential works.
 * `expireTokens()` invalidates every token issued so far (clients must log in again).
 */
export class Auth {
  private generation = 0;
  private readonly publicKey: KeyObject | undefined;

  constructor(
    private readonly opts: AuthOptions,
    private readonly secret: Buffer,
    private readonly nowMs: () => number,
  ) {
    this.publicKey = opts.dcos ? publicKeyFrom(opts.dcos.publicKey) : undefined;
  }

  get enabled(): boolean {
    return this.opts.basic !== undefined || this.opts.dcos !== undefined;
  }

  /** null when the request may pass, else the 401 to send. */
  check(req: IncomingMessage): Reply | null {
    if (!this.enabled) return null;
    const header = req.headers.authorization ?? '';
    if (this.opts.basic !== undefined && header.startsWith('Basic ')) {
      const given = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      if (given === this.opts.basic) return null;
    }
    if (this.opts.dcos !== undefined) {
      const m = /^(?:token=|Bearer\s+)(\S+)$/i.exec(header.trim());
      const verdict = m ? this.verifyIssued(m[1]) : 'no token given (send "Authorization: token=<token>")';
      if (verdict === null) return null;
      return {
        status: 401,
        headers: { 'WWW-Authenticate': 'acsjwt' },
        body: { title: 'Unauthorized', description: `Authentication failed: ${verdict}`, code: 'ERR_INVALID_TOKEN' },
      };
    }
    return {
      status: 401,
      headers: { 'WWW-Authenticate': 'Basic realm="Mesosphere Marathon"' },
      body: { message: 'Invalid username or password.' },
    };
  }

  /**
   * `POST /acs/api/v1/auth/login` with `{uid, token[, exp]}` where token is an RS256 JWT carrying the same
   * uid. Like DC/OS, the answer carries the token twice: `{"token": ...}` and the `dcos-acs-auth-cookie`
   * cookie (marathon-lb's zdd reads the cookie), plus the `dcos-acs-info-cookie` naming the account.
   * `exp` (seconds since the epoch) sets when the token expires.
   */
  login(body: unknown): Reply {
    if (this.opts.dcos === undefined || this.publicKey === undefined) {
      return { status: 404, body: { message: 'DC/OS auth is not enabled on this simulator' } };
    }
    const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const uid = b['uid'];
    const token = b['token'];
    if (typeof uid !== 'string' || typeof token !== 'string') {
      return {
        status: 400,
        body: {
          title: 'Bad Request',
          description: 'expected JSON {"uid": "...", "token": "<RS256 JWT>"}',
          code: 'ERR_MALFORMED_REQUEST',
        },
      };
    }
    const nowSec = Math.floor(this.nowMs() / 1000);
    const verdict = verifyRs256(token, this.publicKey, nowSec);
    const reason = !verdict.ok
      ? verdict.error
      : verdict.value['uid'] !== uid
        ? `the token's uid ${JSON.stringify(verdict.value['uid'])} does not match ${JSON.stringify(uid)}`
        : this.opts.dcos.uid !== undefined && uid !== this.opts.dcos.uid
          ? `unknown service account ${JSON.stringify(uid)}`
          : null;
    if (reason !== null) {
      return {
        status: 401,
        headers: { 'WWW-Authenticate': 'acsjwt' },
        body: {
          title: 'Invalid authentication credentials',
          description: `Login failed: ${reason}`,
          code: 'ERR_INVALID_SERVICE_LOGIN_TOKEN',
        },
      };
    }
    const asked = b['exp'];
    const exp =
      typeof asked === 'number' && Number.isInteger(asked) && asked > nowSec
        ? asked
        : nowSec + Math.max(1, Math.floor((this.opts.dcos.tokenTtlMs ?? 5 * 86_400_000) / 1000));
    const issued = signHs256({ uid, exp, gen: this.generation }, this.secret);
    const expires = `Expires=${new Date(exp * 1000).toUTCString()}; Max-Age=${exp - nowSec}; Path=/`;
    const info = Buffer.from(JSON.stringify({ uid, description: uid, is_remote: false })).toString('base64');
    return {
      status: 200,
      headers: {
        'Set-Cookie': [
          `dcos-acs-auth-cookie=${issued}; ${expires}; HttpOnly`,
          `dcos-acs-info-cookie=${info}; ${expires}`,
        ],
      },
      body: { token: issued },
    };
  }

  expireTokens(): void {
    this.generation++;
  }

  private verifyIssued(token: string): string | null {
    const v = verifyHs256(token, this.secret, Math.floor(this.nowMs() / 1000));
    if (!v.ok) return v.error;
    return v.value['gen'] === this.generation ? null : 'the token has expired';
  }
}
