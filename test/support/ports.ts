import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/**
 * A TCP port that was free on 127.0.0.1 a moment ago: listen on port 0 (the kernel picks one),
 * read it, close. Loopback only. Another process may take it before the caller binds it, so a
 * caller that cannot bind should ask again rather than fail the test.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: listening socket has no TCP address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/**
 * A loopback port no test helper hands out and the kernel never assigns, for a test that asserts
 * nothing listens there: above the ephemeral range (and the helpers' ranges below it), free now.
 * Picked in the shared ranges, another test running beside could bind it and fail that assertion.
 */
export async function unclaimedLoopbackPort(): Promise<number> {
  let high = 60999;
  try {
    high = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[1]);
  } catch {
    // the Linux default
  }
  const from = Math.max(high + 1, 61000);
  if (from > 65000) return freePort(); // the kernel may assign any port: no range is unclaimed
  for (let tries = 0; tries < 100; tries++) {
    const port = from + Math.floor(Math.random() * (65000 - from));
    if (!(await accepting(port))) return port;
  }
  throw new Error('no unclaimed loopback port found');
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
