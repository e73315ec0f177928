import { createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Minimal JWS compact tokens with node:crypto: RS256 (DC/OS service login) and HS256 (issued session tokens). */

export type JwtResult =
  { readonly ok: true; readonly payload: Record<string, unknown> } | { readonly ok: false; readonly error: string };

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function signRs256(payload: Record<string, unknown>, privateKeyPem: string | KeyObject): string {
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  const key = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem;
  return `${input}.${b64url(sign('RSA-SHA256', Buffer.from(input), key))}`;
}

export function verifyRs256(token: string, publicKey: KeyObject, nowSec: number): JwtResult {
  const parts = split(token, 'RS256');
  if (!parts.ok) return parts;
  const good = verify('RSA-SHA256', Buffer.from(parts.input), publicKey, Buffer.from(parts.sig, 'base64url'));
  return good
    ? checkExp(parts.payload, nowSec)
    : { ok: false, error: 'the token signature does not match the configured public key' };
}

export function signHs256(payload: Record<string, unknown>, secret: Buffer): string {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(createHmac('sha256', secret).update(input).digest())}`;
}

export function verifyHs256(token: string, secret: Buffer, nowSec: number): JwtResult {
  const parts = split(token, 'HS256');
  if (!parts.ok) return parts;
  const want = createHmac('sha256', secret).update(parts.input).digest();
  const got = Buffer.from(parts.sig, 'base64url');
  const good = got.length === want.length && timingSafeEqual(got, want);
  return good ? checkExp(parts.payload, nowSec) : { ok: false, error: 'the token was not issued by this simulator' };
}

export const publicKeyFrom = (pem: string): KeyObject => createPublicKey(pem);

function split(
  token: string,
  alg: string,
): { ok: true; input: string; sig: string; payload: Record<string, unknown> } | { ok: false; error: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, error: 'the token is not a JWT (header.payload.signature)' };
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>;
    if (header['alg'] !== alg)
      return { ok: false, error: `the token must be signed with ${alg}, not ${String(header['alg'])}` };
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (typeof payload !== 'object' || payload === null)
      return { ok: false, error: 'the token payload is not a JSON object' };
    return { ok: true, input: `${parts[0]}.${parts[1]}`, sig: parts[2], payload: payload as Record<string, unknown> };
  } catch {
    return { ok: false, error: 'the token header or payload is not base64url JSON' };
  }
}

function checkExp(payload: Record<string, unknown>, nowSec: number): JwtResult {
  const exp = payload['exp'] === undefined ? undefined : Number(payload['exp']);
  if (exp !== undefined && (!Number.isFinite(exp) || exp <= nowSec))
    return { ok: false, error: 'the token has expired' };
  return { ok: true, payload };
}
