/**
 * Responses counted over one kept-alive connection, as a Prometheus scraper or the dashboard uses
 * the admin API: each answered request used to leave a listener on the connection's socket until it
 * closed (found by an audit: Node's MaxListenersExceededWarning after ten requests, and a scraper's
 * connection kept alive for days held one per scrape). Real HTTP on loopback.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ResponsesInFlight } from '../../src/admin/responsesInFlight';

describe('ResponsesInFlight over one kept-alive connection', () => {
  test('50 requests in turn on one socket: one close listener of its own on it, and the count back to 0', async () => {
    const inFlight = new ResponsesInFlight();
    const sockets = new Set<Socket>();
    let baseline = -1;
    let most = 0;
    const server = http.createServer((req, res) => {
      sockets.add(req.socket);
      if (baseline < 0) baseline = req.socket.listenerCount('close');
      inFlight.add(res, req.socket);
      most = Math.max(most, req.socket.listenerCount('close'));
      res.end('ok\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      for (let i = 0; i < 50; i++) {
        await new Promise<void>((resolve, reject) => {
          http
            .get(url, { agent }, (res) => {
              res.resume();
              res.on('end', resolve);
            })
            .on('error', reject);
        });
      }
      expect(sockets.size).toBe(1); // kept alive: one connection for all
      expect(most).toBe(baseline + 1);
      expect(inFlight.count).toBe(0);
    } finally {
      agent.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
