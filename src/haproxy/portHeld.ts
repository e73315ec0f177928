import * as net from 'node:net';

/**
 * Whether another process holds `port` on a frontend's bind address, found by binding it for a
 * moment: true only for EADDRINUSE. Anything else (free, not a local address, a privileged port
 * this process may not bind) says nothing against trying. Asked before HAProxy is reloaded to try
 * again an app it could not run for its port (AppliedState.dueRetries): a reload that cannot bind
 * pauses every listener of the running worker while it retries, ~2 s of refused connections.
 */
export function portHeld(bindAddr: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'));
    server.listen({ host: hostOf(bindAddr), port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** HAProxy's bind address as Node listens on it: `*` and none are every IPv4 address. */
function hostOf(bindAddr: string): string {
  const bare = bindAddr.replace(/^ipv[46]@/, '').replace(/^\[(.*)\]$/, '$1');
  return bare === '' || bare === '*' ? '0.0.0.0' : bare;
}
