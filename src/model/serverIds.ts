import { createHash } from 'node:crypto';

const UNSAFE = /[^a-zA-Z0-9-]/g;

/** marathon-lb's friendly server name: host_ip_port, or ip_port when the host is the IP. */
export function serverName(host: string, ip: string, port: number): string {
  return (host !== ip ? `${host}_${ip}_${port}` : `${ip}_${port}`).replace(UNSAFE, '_');
}

/** Replaces every character HAProxy identifiers cannot hold, like upstream's re.sub. */
export function cleanName(s: string): string {
  return s.replace(UNSAFE, '_');
}

const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** sha256(name) mod 32767 — computed on the 256-bit number through its hex digits, 4 digits at a time. */
function hexMod32767(hex: string): number {
  let r = 0;
  for (let i = 0; i < hex.length; i += 4) r = (r * 65536 + parseInt(hex.slice(i, i + 4), 16)) % 32767;
  return r;
}

/**
 * A server id that is stable across renders as long as servers are visited in the same order:
 * sha256(name) mod 32767, re-hashing `name + ' ' + digest` on a collision or zero (upstream's
 * calculate_server_id). `taken` holds the ids already used in the backend and is extended.
 */
export function serverId(name: string, taken: Set<number>): number {
  let candidate = name;
  for (;;) {
    const hex = sha256Hex(candidate);
    const id = hexMod32767(hex);
    if (id > 0 && !taken.has(id)) {
      taken.add(id);
      return id;
    }
    candidate = `${candidate} ${hex}`;
  }
}

/** The sticky-session cookie value for a server: first 10 hex digits of sha1(name). */
export function cookieValue(name: string): string {
  return createHash('sha1').update(name).digest('hex').slice(0, 10);
}
