import { bareBindAddress, dottedIPv4, ipv4MappedAddress, ipv6Groups } from '../model/haproxyText';

/** The key of any address: `*`, an empty one, and every all-zero spelling. */
const ANY = '*';

/**
 * The address a `bind <address>:<port>` line listens on, as HAProxy reads it, one key per address:
 * its quotes and `ipv4@`/`ipv6@` prefix taken out, IPv4 in the C library's forms (`127.1`,
 * `0177.0.0.1`, `2130706433` are 127.0.0.1), IPv6 however it is written (`[::1]`, `0:0::1`), an
 * IPv4-mapped IPv6 address as its IPv4 one. A host name (resolved by HAProxy when it loads) keeps its
 * name. Compared as text, two spellings of one address on one port were both served, and HAProxy
 * split that port's connections between two apps (found by an audit: 9 to one, 3 to the other).
 */
function bindKey(bindAddr: string): string {
  const a = bareBindAddress(bindAddr);
  if (a === '' || a === ANY) return ANY;
  const v4 = dottedIPv4(a) ?? ipv4MappedAddress(a.toLowerCase());
  if (v4 !== undefined) return v4 === '0.0.0.0' ? ANY : v4;
  const groups = ipv6Groups(a.toLowerCase());
  if (groups !== null) return groups.every((g) => g === 0) ? ANY : groups.map((g) => g.toString(16)).join(':');
  return `name ${a.toLowerCase()}`;
}

/**
 * Whether listeners on one port at these two addresses clash: the same address, any address on
 * either side, or a host name on either side (the address HAProxy will resolve it to is not known
 * here, and another spelling of the same one must not share the port).
 */
export function bindsClash(a: string, b: string): boolean {
  const ka = bindKey(a);
  const kb = bindKey(b);
  return ka === kb || ka === ANY || kb === ANY || ka.startsWith('name ') || kb.startsWith('name ');
}
