import { createServer } from 'node:net';

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
