import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Keeps a server's connections under `cap`, making room for a new one by closing the one used least
 * recently: an idle one first (no request under way), else the one whose request began or ended
 * longest ago. `dropped` is told each connection closed so. One whose answer makes no progress (a
 * reader that never reads) is closed after `stalledMs`. A connection that sends nothing is Node's:
 * its headersTimeout counts from the connection's start and answers 408 before closing.
 *
 * Why not `server.maxConnections`: it refuses new connections while old ones are held, so 1 024
 * silent sockets of one local process (or of any peer, with --admin-bind) kept `/healthz`, the
 * liveness probe, unanswered for as long as they stayed (an audit: 51 of 55 probes failed in 30 s);
 * and sockets that pipelined requests and never read their answers stayed busy for good (a second
 * audit: 20 of 20 probes failed).
 */
export function keepConnectionsUnder(server: Server, cap: number, dropped: () => void, stalledMs: number): void {
  /** Requests under way on each held connection; iteration order is least recently used first. */
  const held = new Map<Socket, number>();
  const use = (socket: Socket, busy: number): void => {
    held.delete(socket);
    held.set(socket, busy);
  };
  server.on('connection', (socket: Socket) => {
    held.set(socket, 0);
    socket.once('close', () => held.delete(socket));
    if (held.size <= cap) return;
    let idle: Socket | undefined;
    let oldest: Socket | undefined;
    for (const [s, busy] of held) {
      if (s === socket) continue;
      oldest ??= s;
      if (busy === 0) {
        idle = s;
        break;
      }
    }
    (idle ?? oldest ?? socket).destroy();
    dropped();
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    socket.setTimeout(stalledMs);
    const busy = held.get(socket);
    if (busy === undefined) return;
    use(socket, busy + 1);
    res.once('close', () => {
      const now = held.get(socket);
      if (now !== undefined) use(socket, now - 1);
    });
  });
}
