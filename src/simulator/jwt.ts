import { createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { andThen, err, ok, type Result } from '../result';

/** Minimal JWS compact tokens with node:crypto: RS256 (DC/OS service login) and HS256 (issued session tokens). */

/** A verified token's payload, or why it is refused. */
export type JwtResult = Result<Record<string, unknown>>;

interface Parts {
  readonly input: string;
  readonly sig: string;
  readonly payload: Record<string, unknown>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function signRs256(payload: Record<string, unknown>, privateKeyPem: string | KeyObject): string {
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  const key = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem;
  return `${input}.${b64url(sign('RSA-SHA256', Buffer.from(input), key))}`;
}

export function verifyRs256(token: string, publicKey: KeyObject, nowSec: number): JwtResult {
  return andThen(split(token, 'RS256'), (parts) =>
    verify('RSA-SHA256', Buffer.from(parts.input), publicKey, Buffer.from(parts.sig, 'base64url'))
      ? checkExp(parts.payload, nowSec)
      : err('the token signature does not match the configured public key'),
  );
}

export function signHs256(payload: Record<string, unknown>, secret: Buffer): string {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(createHmac('sha256', secret).update(input).digest())}`;
}

export function verifyHs256(token: string, secret: Buffer, nowSec: number): JwtResult {
  return andThen(split(token, 'HS256'), (parts) => {
    const want = createHmac('sha256', secret).update(parts.input).digest();
    const got = Buffer.from(parts.sig, 'base64url');
    const good = got.length === want.length && timingSafeEqual(got, want);
    return good ? checkExp(parts.payload, nowSec) : err('the token was not issued by this simulator');
  });
}

export const publicKeyFrom = (pem: string): KeyObject => createPublicKey(pem);

function split(token: string, alg: string): Result<Parts> {
  const parts = token.split('.');
  if (parts.length !== 3) return err('the token is not a JWT (header.payload.signature)');
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>;
    if (header['alg'] !== alg) return err(`the token must be signed with ${alg}, not ${String(header['alg'])}`);
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (typeof payload !== 'object' || payload === null) return err('the token payload is not a JSON object');
    return ok({ input: `${parts[0]}.${parts[1]}`, sig: parts[2], payload: payload as Record<string, unknown> });
  } catch {
    return err('the token header or payload is not base64url JSON');
  }
}

function checkExp(payload: Record<string, unknown>, nowSec: number): JwtResult {
  const exp = payload['exp'] === undefined ? undefined : Number(payload['exp']);
  if (exp !== undefined && (!Number.isFinite(exp) || exp <= nowSec)) return err('the token has expired');
  return ok(payload);
}
