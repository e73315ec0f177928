import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Keeps a server's connections under `cap`, making room for a new one by closing the connection idle
 * the longest (no request under way; least recently used). Only when every held connection is in the
 * middle of a request is the new one closed instead. `dropped` is told each connection closed so.
 *
 * Why not `server.maxConnections`: it refuses new connections while old ones are held, so 1 024
 * silent sockets of one local process (or of any peer, with --admin-bind) kept `/healthz`, the
 * liveness probe, unanswered for as long as they stayed (an audit: 51 of 55 probes failed in 30 s).
 */
export function keepConnectionsUnder(server: Server, cap: number, dropped: () => void, silentMs: number): void {
  /** Requests under way on each held connection; iteration order is least recently used first. */
  const held = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    held.set(socket, 0);
    socket.once('close', () => held.delete(socket));
    // A connection that sends nothing at all is closed after `silentMs` (Node's headersTimeout counts
    // from a request's first byte): until its first request, then keepAliveTimeout decides.
    socket.setTimeout(silentMs, () => socket.destroy());
    if (held.size <= cap) return;
    let idle: Socket | undefined;
    for (const [s, busy] of held)
      if (busy === 0 && s !== socket) {
        idle = s;
        break;
      }
    (idle ?? socket).destroy();
    dropped();
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    socket.setTimeout(0);
    const busy = held.get(socket);
    if (busy === undefined) return;
    held.set(socket, busy + 1);
    res.once('close', () => {
      const now = held.get(socket);
      if (now === undefined) return;
      // Used just now: the last to be closed for room.
      held.delete(socket);
      held.set(socket, now - 1);
    });
  });
}
