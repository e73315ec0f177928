/**
 * Which bytes of an event stream show that Marathon is there: its heartbeat (a bare CRLF between
 * events, from Jetty), a comment line (`:ping`, from a proxy), or an event that parses (events.ts).
 * Any bytes at all used to count: a proxy or a broken peer sending garbage kept the stream
 * "connected" and routing stale until the next resync, while /status and /healthz said all was well
 * (found by a fault test). What is not text is no event stream at all: invalid UTF-8 ends it.
 */
import { BREAK, JOINED, LineBreaks } from './sseLines';

const COLON = 0x3a;

export interface SseLiveness {
  /** Whether `chunk` completed a heartbeat or a comment line; throws NotText at invalid UTF-8. */
  (chunk: Uint8Array): boolean;
}

/** The stream's bytes are not UTF-8 text, as server-sent events are. */
export class NotText extends Error {}

export function sseLiveness(): SseLiveness {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let lineStart = true; // the next byte starts a line
  const breaks = new LineBreaks();
  let blockHasField = false; // a line other than a comment since the last blank line
  return (chunk) => {
    try {
      utf8.decode(chunk, { stream: true });
    } catch {
      throw new NotText();
    }
    let alive = false;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      const kind = breaks.at(b);
      if (kind === JOINED) continue;
      if (kind === BREAK) {
        // A blank line: the end of an event (its data judged by the parser) or, alone, a heartbeat.
        if (lineStart) {
          if (!blockHasField) alive = true;
          blockHasField = false;
        }
        lineStart = true;
      } else {
        if (lineStart) {
          if (b === COLON) alive = true;
          else blockHasField = true;
        }
        lineStart = false;
      }
    }
    return alive;
  };
}
