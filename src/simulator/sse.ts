import type { ServerResponse } from 'node:http';
import type { SimEvent } from './types';

interface Stream {
  readonly res: ServerResponse;
  /** Event types asked for with `event_type=`; null = all. */
  readonly filter: ReadonlySet<string> | null;
  /** A hung stream gets no more bytes (events included). */
  hung: boolean;
  /** Pouring an endless line. */
  endless: boolean;
}

const ENDLESS_CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Serializes one event the way Marathon writes it on `/v2/events`. */
export const sseFrame = (e: SimEvent): string => `event: ${e.eventType}\ndata: ${JSON.stringify(e)}\n\n`;

/**
 * Marathon serves `/v2/events` with Jetty's EventSourceServlet, which writes a heartbeat, a bare CRLF,
 * every 10 s (its `heartBeatPeriod`): a quiet cluster's stream is not silent, and a client's idle
 * timeout (--sse-idle-timeout, 60 s) sees it alive.
 */
export const MARATHON_HEARTBEAT_MS = 10_000;

/**
 * The open `/v2/events` connections. Events are written as `event: <type>\ndata: <json>\n\n`, and a
 * heartbeat (CRLF) every `heartbeatMs` between them; 0 writes none.
 */
export class EventHub {
  private readonly streams = new Set<Stream>();
  private heartbeat: NodeJS.Timeout | undefined;
  private poured = 0;

  constructor(heartbeatMs = MARATHON_HEARTBEAT_MS) {
    if (heartbeatMs > 0) this.heartbeat = setInterval(() => this.writeAll('\r\n'), heartbeatMs);
  }

  get size(): number {
    return this.streams.size;
  }

  /** Bytes of endless lines written so far (the `{"stream":"endless-line"}` fault). */
  get endlessBytes(): number {
    return this.poured;
  }

  /**
   * Takes over a `/v2/events` response. When `hang` is set nothing at all is written (no status line,
   * no headers): the client sees a connection that accepted the request and then went silent. When
   * `mute` is, the status line and headers only.
   */
  attach(
    res: ServerResponse,
    eventTypes: readonly string[],
    hang: boolean,
    greeting: SimEvent,
    endless = false,
    mute = false,
  ): void {
    const stream: Stream = {
      res,
      filter: eventTypes.length > 0 ? new Set(eventTypes) : null,
      hung: hang || mute,
      endless: false,
    };
    this.streams.add(stream);
    res.on('close', () => this.streams.delete(stream));
    res.socket?.setNoDelay(true);
    if (hang) return;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-store' });
    res.flushHeaders();
    if (mute) return; // headers, then silence (the `{"stream":"mute"}` fault)
    if (wants(stream, greeting.eventType)) res.write(sseFrame(greeting));
    if (endless) this.pour(stream);
  }

  /** Every open stream starts an endless line (the `{"stream":"endless-line"}` fault). */
  pourAll(): void {
    for (const s of this.streams) if (s.res.headersSent && !s.endless) this.pour(s);
  }

  /** `data: xxxx…` without a line break, as fast as the client reads, until the connection closes. */
  private pour(s: Stream): void {
    s.hung = true; // events would land inside the line
    s.endless = true;
    s.res.write('data: ');
    const more = (): void => {
      while (!s.res.destroyed && !s.res.writableEnded) {
        this.poured += ENDLESS_CHUNK.length;
        if (!s.res.write(ENDLESS_CHUNK)) {
          s.res.once('drain', more);
          return;
        }
      }
    };
    more();
  }

  publish(events: readonly SimEvent[]): void {
    if (events.length === 0 || this.streams.size === 0) return;
    const frames = events.map((e) => ({ type: e.eventType, text: sseFrame(e) }));
    for (const s of this.streams) {
      if (s.hung || s.res.destroyed) continue;
      const text = frames
        .filter((f) => wants(s, f.type))
        .map((f) => f.text)
        .join('');
      if (text !== '') s.res.write(text);
    }
  }

  /** Silence every open stream (the `{"stream":"hang"}` fault). */
  hangAll(): void {
    for (const s of this.streams) s.hung = true;
  }

  /** End every open stream cleanly (the `{"stream":"close"}` fault); hung ones without headers are cut. */
  closeAll(): number {
    const n = this.streams.size;
    for (const s of [...this.streams]) {
      if (s.res.headersSent) {
        s.res.end();
        s.res.socket?.end();
      } else s.res.destroy();
      this.streams.delete(s);
    }
    return n;
  }

  /** Drop every stream at once (the `{"all":"down"}` fault and shutdown). */
  destroyAll(): void {
    for (const s of [...this.streams]) s.res.destroy();
    this.streams.clear();
  }

  stop(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.destroyAll();
  }

  private writeAll(text: string): void {
    for (const s of this.streams) if (!s.hung && s.res.headersSent && !s.res.destroyed) s.res.write(text);
  }
}

const wants = (s: Stream, type: string): boolean => s.filter === null || s.filter.has(type);
