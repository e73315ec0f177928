/** Where an event stream's lines break: CR, LF, or CRLF as one break (what sseLimit and sseLiveness count by). */
export const TEXT = 0;
export const BREAK = 1;
/** The LF of a CRLF: no break of its own. */
export const JOINED = 2;

const LF = 0x0a;
const CR = 0x0d;

export class LineBreaks {
  private afterCr = false;

  /** What byte `b`, next in the stream, is. */
  at(b: number): typeof TEXT | typeof BREAK | typeof JOINED {
    if (b === LF && this.afterCr) {
      this.afterCr = false;
      return JOINED;
    }
    this.afterCr = b === CR;
    return b === LF || b === CR ? BREAK : TEXT;
  }

  /** Told of bytes that hold no CR or LF (read as a whole, not byte by byte). */
  text(): void {
    this.afterCr = false;
  }
}
