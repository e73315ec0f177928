import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Creates the HTTP (or HTTPS, given PEM key + cert) server and listens; resolves with the bound port. */
export function listenServer(
  handler: Handler,
  host: string,
  port: number,
  tls?: { readonly key: string | Buffer; readonly cert: string | Buffer },
): Promise<{ server: Server; port: number }> {
  const server: Server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, handler) : createServer(handler);
  // Event streams live for hours; no idle timeout on responses.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(`simulator cannot listen on ${host}:${port}: ${err.code ?? err.message}`));
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}

/** Closes the server and every connection still open (event streams, hung requests, keep-alive sockets). */
export function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
