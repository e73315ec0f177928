import { EventSource } from 'eventsource';
import type { FetchLike, FetchLikeResponse, ReaderLike } from 'eventsource';
import { Observable } from 'rxjs';
import type { EventStreamSource } from './client';
import { DEFAULT_EVENT_TYPES, MarathonEvent, parseMarathonEvent } from './eventTypes';
import { MarathonError, StreamingResponse } from './http';
import { sseSizeLimit } from './sseLimit';
import { NotText, sseLiveness } from './sseLiveness';

/**
 * Marathon's SSE event bus (`GET /v2/events`) as a cold Observable, one connection per
 * subscription. It emits `connected` once the stream is open, `heartbeat` for what shows Marathon
 * is there (its heartbeat, a comment line, an event of a type not wanted: liveness for an
 * idle-timeout stage, sseLiveness.ts) and `event` for every event of a wanted type; it errors when the connection fails or ends, or when a line
 * or an event exceeds `maxEventBytes`, and never reconnects by itself (that is `retryBackoff`'s
 * job). Unsubscribing closes the connection.
 */
export type StreamItem =
  | { readonly kind: 'connected'; readonly url: string }
  | { readonly kind: 'heartbeat' }
  | { readonly kind: 'event'; readonly event: MarathonEvent };

export interface EventStreamOptions {
  readonly source: EventStreamSource;
  /** Event types asked for and passed on (default: DEFAULT_EVENT_TYPES); empty = all. */
  readonly eventTypes?: readonly string[];
  /** Longest line or event accepted, in bytes (default DEFAULT_MAX_EVENT_BYTES). */
  readonly maxEventBytes?: number;
  /** Whether the attempt is logged at info (default) or, reconnecting after failures, at debug. */
  readonly announce?: boolean;
}

/**
 * The events asked for carry at most one app definition (api_post_event, a few KiB): 16 MiB is
 * generous, even for a Marathon too old to filter event types, whose deployment events carry
 * whole groups. What a stream may hold in memory grows with it (measured: about baseline + 6×
 * the limit of RSS while an endless line is poured, garbage included).
 */
export const DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024;

function eventsUrl(base: string, eventTypes: readonly string[]): string {
  const q = new URLSearchParams({ 'plan-format': 'light' });
  for (const t of eventTypes) q.append('event_type', t);
  return `${base}/v2/events?${q.toString()}`;
}

/** The eventType given to an event that could not be read (bad JSON, or no "eventType"): a trigger of its own. */
export const UNREADABLE_EVENT = 'unreadable_event';

/**
 * Parses one SSE `data` value. Marathon sometimes packs several JSON objects into one event,
 * one per line (`{…}\r\n{…}`): a value that is not one JSON document is split into lines.
 */
export function parseEventData(data: string): { values: unknown[]; malformed: number } {
  if (data.trim() === '') return { values: [], malformed: 0 };
  try {
    return { values: [JSON.parse(data)], malformed: 0 };
  } catch {
    /* several documents, or garbage */
  }
  const values: unknown[] = [];
  let malformed = 0;
  for (const line of data.split(/\r\n|\r|\n/)) {
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      malformed++;
    }
  }
  return { values, malformed };
}

/**
 * Marathon may also send `data: {…}\r\n{…}\r\n\r\n`: to an SSE parser the second line is a field
 * named `{"eventType"` and would be dropped. A line can never usefully start with `{`, so such
 * lines are turned into `data: {…}` lines before parsing (state is kept across chunks).
 */
export function continuationLinesAsData(): (chunk: Uint8Array) => Uint8Array {
  const PREFIX = Buffer.from('data: ');
  let atLineStart = true;
  return (chunk) => {
    const parts: Uint8Array[] = [];
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (atLineStart && b === 0x7b) {
        parts.push(chunk.subarray(from, i), PREFIX);
        from = i;
      }
      atLineStart = b === 0x0a || b === 0x0d;
    }
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  };
}

/** EventSource that lets us see every dispatched event, whatever its SSE `event:` name. */
class TappedEventSource extends EventSource {
  tap: (ev: Event) => void = () => undefined;
  override dispatchEvent(ev: Event): boolean {
    this.tap(ev);
    return super.dispatchEvent(ev);
  }
}

const headerGetter =
  (res: StreamingResponse) =>
  (name: string): string | null => {
    const v = res.headers[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  };

export function eventStream(opts: EventStreamOptions): Observable<StreamItem> {
  return new Observable<StreamItem>((subscriber) => {
    const { source } = opts;
    const log = source.logger;
    const types = opts.eventTypes ?? DEFAULT_EVENT_TYPES;
    const wanted = new Set<string>(types);
    const base = source.currentUrl();
    // Also asked for, not wanted: Marathon greets a new subscriber with it, so the stream shows it
    // is alive at once (its next bytes may be a heartbeat 10 s later). Never a trigger.
    const url = eventsUrl(base, [...types, 'event_stream_attached']);
    let connectedUrl = url;
    let opened = false;
    let failure: MarathonError | undefined;
    const warned = new Set<string>();
    const warnOnce = (key: string, msg: string): void => {
      if (warned.has(key)) log.debug(msg);
      else {
        warned.add(key);
        log.warn(`${msg} (logged once per connection; then at debug level)`);
      }
    };

    const reader = (res: StreamingResponse): ReaderLike => {
      const it = res.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const fix = continuationLinesAsData();
      const limit = opts.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
      const overflow = sseSizeLimit(limit);
      const live = sseLiveness();
      return {
        read: async () => {
          try {
            const r = await it.next();
            if (r.done) return { done: true };
            const over = overflow(r.value);
            if (over !== null) {
              // Never handed to the parser: what it buffers stays below the limit.
              failure ??= new MarathonError(
                'stream',
                `event stream ${connectedUrl} sent ${over.what === 'line' ? 'a line' : 'an event'} longer than ${over.limit} bytes (--sse-max-event-bytes): dropped the connection`,
              );
              res.close();
              throw failure;
            }
            let alive: boolean;
            try {
              alive = live(r.value);
            } catch (e) {
              if (!(e instanceof NotText)) throw e;
              failure ??= new MarathonError(
                'stream',
                `event stream ${connectedUrl} sent bytes that are not UTF-8 text, which no event stream is: dropped the connection`,
              );
              res.close();
              throw failure;
            }
            if (alive && !subscriber.closed) subscriber.next({ kind: 'heartbeat' });
            return { done: false, value: fix(r.value) };
          } catch (e) {
            const code = (e as { code?: unknown }).code;
            const why =
              e instanceof MarathonError ? e.message : `connection lost${typeof code === 'string' ? ` (${code})` : ''}`;
            failure ??= new MarathonError('stream', `event stream ${connectedUrl} broke: ${why}`);
            throw e;
          }
        },
        cancel: () => {
          res.close();
          return Promise.resolve();
        },
      };
    };

    // Closed with the stream: eventsource refuses an answer of another content type by closing itself
    // first, so its close() no longer aborts the request, and each retry left a connection open.
    let response: StreamingResponse | undefined;
    const fetchStream: FetchLike = async (_u, init) => {
      try {
        const res = await source.openStream(url, init.signal as AbortSignal);
        response = res;
        connectedUrl = res.url;
        const adapted: FetchLikeResponse = {
          status: res.status,
          url: res.url,
          redirected: res.url !== url,
          headers: { get: headerGetter(res) },
          body: { getReader: () => reader(res) },
        };
        return adapted;
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        failure = new MarathonError(
          'stream',
          source.redact(`event stream ${url}: ${why}`),
          e instanceof MarathonError ? e.status : undefined,
        );
        throw failure;
      }
    };

    // An event that cannot be read still says Marathon changed: the snapshot reads what (an audit:
    // a stray brace lost a task's move until the 5-minute resync, while every status said fine).
    const unreadable = (why: string): void =>
      subscriber.next({ kind: 'event', event: { type: 'other', eventType: UNREADABLE_EVENT, unusable: why } });
    const handleData = (data: string): void => {
      const { values, malformed } = parseEventData(data);
      if (malformed > 0) {
        warnOnce(
          'json',
          `${malformed} malformed JSON value(s) in an event from ${connectedUrl}: reading the apps from Marathon instead`,
        );
        unreadable('malformed JSON');
      }
      for (const v of values) {
        const parsed = parseMarathonEvent(v);
        if (!parsed.ok) {
          warnOnce(
            'shape',
            `an event from ${connectedUrl} cannot be read (${parsed.error}): reading the apps from Marathon instead`,
          );
          unreadable(parsed.error);
          continue;
        }
        const ev = parsed.value;
        if (wanted.size > 0 && !wanted.has(ev.eventType)) {
          log.debug(`ignoring event of type ${ev.eventType}`);
          // Not wanted, but Marathon's (event_stream_attached first): the stream is alive.
          subscriber.next({ kind: 'heartbeat' });
          continue;
        }
        if (ev.type === 'other' && ev.unusable !== undefined)
          warnOnce('shape', `an event from ${connectedUrl} is left to the next snapshot: ${ev.unusable}`);
        log.debug(`received event of type ${ev.eventType}`);
        subscriber.next({ kind: 'event', event: ev });
      }
    };

    const connecting = `connecting to Marathon event stream ${url}`;
    if (opts.announce === false) log.debug(connecting);
    else log.info(connecting);
    const es = new TappedEventSource(url, { fetch: fetchStream });
    es.tap = (ev) => {
      if (subscriber.closed) return;
      // Marathon's own events, whatever their `event:` name: one named `error` dropped a healthy
      // stream, and 20 000 named `open` were as many reconnects (found by an audit).
      if (ev instanceof MessageEvent) {
        const data: unknown = ev.data;
        if (typeof data === 'string') handleData(data);
      } else if (ev.type === 'open') {
        opened = true;
        source.streamOpen?.(base, true);
        // Connected once its first bytes come (service.ts logs it then): a stream that answers and
        // then says nothing was logged connected at each reconnect while /status said it was down.
        log.debug(`Marathon event stream ${connectedUrl} answered; waiting for its first bytes`);
        subscriber.next({ kind: 'connected', url: connectedUrl });
      } else if (ev.type === 'error') {
        // No auto-reconnect: the error goes downstream. eventsource arms its reconnect timer right
        // after dispatching this event, so close again once it has.
        es.close();
        response?.close();
        queueMicrotask(() => es.close());
        const detail = (ev as { message?: string }).message;
        const err =
          failure ??
          new MarathonError(
            'stream',
            detail ? `event stream ${connectedUrl}: ${detail}` : `event stream ${connectedUrl} was closed by Marathon`,
          );
        if (!opened) source.reportFailure(base, err.message);
        source.streamOpen?.(base, false);
        subscriber.error(err);
      }
    };
    return () => {
      if (opened) source.streamOpen?.(base, false);
      es.close();
      response?.close();
    };
  });
}
