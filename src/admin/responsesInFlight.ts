import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';

/**
 * Responses being sent, counted by their socket. A response queued behind others on a pipelining
 * socket emits nothing when that socket dies, so each is counted off when it closes or its socket
 * does, whichever comes first: the count cannot leak and shut the route for good.
 */
export class ResponsesInFlight {
  private readonly bySocket = new Map<Socket, number>();
  /**
   * Sockets whose close is listened to already. One listener a socket, not one a response: a client
   * that kept its connection alive (a Prometheus scraper, the dashboard) added one with each request
   * it made after the last had been answered, kept until the connection closed (found by an audit:
   * Node's MaxListenersExceededWarning after ten requests).
   */
  private readonly watched = new WeakSet<Socket>();
  private total = 0;

  get count(): number {
    return this.total;
  }

  add(res: ServerResponse, socket: Socket): void {
    const n = this.bySocket.get(socket) ?? 0;
    if (!this.watched.has(socket)) {
      this.watched.add(socket);
      socket.once('close', () => this.forget(socket));
    }
    this.bySocket.set(socket, n + 1);
    this.total++;
    res.once('close', () => {
      const left = this.bySocket.get(socket);
      if (left === undefined) return; // its socket closed first and took it off
      this.total--;
      if (left <= 1) this.bySocket.delete(socket);
      else this.bySocket.set(socket, left - 1);
    });
  }

  private forget(socket: Socket): void {
    this.total -= this.bySocket.get(socket) ?? 0;
    this.bySocket.delete(socket);
  }
}
