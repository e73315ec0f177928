import type * as http from 'node:http';
import type * as https from 'node:https';
import type { AddressInfo } from 'node:net';

/** Listens on a free loopback port; close() also drops open connections (SSE streams included). */
export async function listenOnLoopback(
  server: http.Server | https.Server,
): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
