/**
 * Counts event-stream bytes before the SSE parser sees them, so that one endless line or one
 * endless event cannot grow the parser's buffers without bound: the parser holds at most one
 * line and one event, and both are bounded here.
 *
 * Why before the parser: it buffers an incomplete line, and the `data` of an event not yet ended
 * by a blank line, for as long as the peer keeps sending — a Marathon (or anything posing as one)
 * that never sends a line break would take all the controller's memory.
 */
import { BREAK, JOINED, LineBreaks } from './sseLines';

export type SseOverflow = { readonly what: 'line' | 'event'; readonly limit: number };

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

/** Returns a checker fed with every chunk in order; it answers the first overflow, else null. */
export function sseSizeLimit(limit: number): (chunk: Uint8Array) => SseOverflow | null {
  let line = 0; // bytes since the last line break
  let event = 0; // bytes of the event's lines since the last blank line (the end of an event)
  const breaks = new LineBreaks();
  // A comment line (`:ping`) is no part of the event: the parser keeps nothing of it. Counted,
  // keep-alive comments without a blank line got a stream dropped as an endless event (found by an audit).
  let comment = false;
  return (chunk) => {
    if (chunk.indexOf(LF) === -1 && chunk.indexOf(CR) === -1) {
      // The common case of an endless line: no need to look at every byte.
      if (chunk.length > 0) breaks.text();
      if (line === 0 && chunk.length > 0) comment = chunk[0] === COLON;
      line += chunk.length;
      if (!comment) event += chunk.length;
    } else {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        const kind = breaks.at(b);
        if (kind === JOINED) continue;
        if (kind === BREAK) {
          if (line === 0) event = 0; // a blank line ends the event
          line = 0;
        } else {
          if (line === 0) comment = b === COLON;
          line++;
          if (!comment) event++;
          if (line > limit || event > limit) break;
        }
      }
    }
    if (line > limit) return { what: 'line', limit };
    if (event > limit) return { what: 'event', limit };
    return null;
  };
}
