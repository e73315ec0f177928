import { bareBindAddress, dottedIPv4 } from '../model/haproxyText';
import * as net from 'node:net';

/**
 * Why HAProxy could not bind a frontend's address and port now, found by binding it for a moment
 * ourselves, or null when nothing says so: another process holds it (EADDRINUSE), or the address is
 * not one of this host's (EADDRNOTAVAIL: `HAPROXY_{n}_BIND_ADDR=203.0.113.7`), unless its bind options
 * let HAProxy bind an address that is not (`transparent`, `freebind`) or bind in another network
 * namespace (`namespace`). Anything else (free, a privileged port HAProxy may be let bind, a host name
 * HAProxy resolves itself) says nothing against trying.
 *
 * Asked before a reload that binds a port the running HAProxy does not, and before another try of
 * an app HAProxy could not run for its port (pipeline.ts): a reload that cannot bind pauses every
 * listener of the running worker while it retries, ~2 s of refused connections for every app.
 */
export interface Unbindable {
  readonly reason: string;
  /** The bind address is at fault (not this host's), not the port. */
  readonly address: boolean;
}

export function whyUnbindable(bindAddr: string, port: number, bindOptions: string | null): Promise<Unbindable | null> {
  const host = hostOf(bindAddr);
  if (net.isIP(host) === 0) return Promise.resolve(null);
  const anyAddress = /(?:^|\s)(?:transparent|freebind|namespace)(?:\s|$)/.test(bindOptions ?? '');
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') resolve({ reason: 'another process holds it', address: false });
      else if (e.code === 'EADDRNOTAVAIL' && !anyAddress)
        resolve({ reason: `${host} is not an address of this host`, address: true });
      else resolve(null);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** HAProxy's bind address as Node listens on it: `*` and none are every IPv4 address. */
function hostOf(bindAddr: string): string {
  const bare = bareBindAddress(bindAddr);
  // HAProxy reads `127.1` as 127.0.0.1 (inet_aton's short forms); Node's listen would look it up as a name.
  return bare === '' || bare === '*' ? '0.0.0.0' : (dottedIPv4(bare) ?? bare);
}
