import { wellFormedJson } from '../wellFormedJson';
/**
 * JSON.stringify of plain data (what /status is: objects, arrays, strings, numbers, booleans, null),
 * made a slice at a time and handed over as UTF-8 pieces: after every `sliceItems` array items it
 * awaits `pause` (the caller's turn of the event loop). /status of a cluster of thousands of apps is
 * tens of megabytes; made in one go it held the event loop for 1.5–2 s, and /healthz went unanswered
 * meanwhile (found by a test at 8 000 apps). Joined into one text first, its pieces, the text and its
 * bytes were alive at once: a read of /status at 10 000 apps took the controller's peak RSS from
 * 314 to 412 MiB (bench:scale). The pieces are about `chunkChars` characters each; their bytes
 * together are JSON.stringify's text, compact. `chars` is that text's length.
 */
export async function jsonChunks(
  value: unknown,
  pause: () => Promise<void>,
  sliceItems = 200,
  chunkChars = 1 << 16,
): Promise<{ readonly chunks: readonly Buffer[]; readonly chars: number }> {
  const chunks: Buffer[] = [];
  let pending: string[] = [];
  let pendingChars = 0;
  let chars = 0;
  const push = (...texts: string[]): void => {
    for (const t of texts) {
      pending.push(wellFormedJson(t));
      pendingChars += t.length;
    }
    if (pendingChars >= chunkChars) flush();
  };
  const flush = (): void => {
    if (pendingChars === 0) return;
    chunks.push(Buffer.from(pending.join(''), 'utf8'));
    chars += pendingChars;
    pending = [];
    pendingChars = 0;
  };
  let sincePause = 0;
  // Objects are printed field by field down to the arrays in them; an array's items (a service, a
  // backend's traffic) each by JSON.stringify, with a pause after every `sliceItems` of them.
  const write = async (v: unknown): Promise<void> => {
    if (Array.isArray(v) || v instanceof LazyItems) {
      const item = Array.isArray(v) ? (i: number): unknown => v[i] : (i: number): unknown => v.at(i);
      push('[');
      for (let i = 0; i < v.length; i++) {
        // As JSON.stringify: an item that JSON cannot hold (undefined, a function) is null.
        push(i > 0 ? ',' : '', JSON.stringify(item(i)) ?? 'null');
        if (++sincePause >= sliceItems) {
          sincePause = 0;
          await pause();
        }
      }
      push(']');
    } else if (isPlainObject(v)) {
      push('{');
      let first = true;
      for (const key of Object.keys(v)) {
        const field = v[key];
        const text =
          Array.isArray(field) || isPlainObject(field) || field instanceof LazyItems ? null : JSON.stringify(field);
        if (text === undefined) continue; // as JSON.stringify: undefined and functions are left out
        push(first ? '' : ',', JSON.stringify(key), ':');
        first = false;
        if (text === null) await write(field);
        else push(text);
      }
      push('}');
    } else push(JSON.stringify(v) ?? 'null');
  };
  await write(value);
  flush();
  return { chunks, chars };
}

/**
 * A list whose items are made as jsonChunks prints them, each dropped once printed: /status's
 * services at 10 000 apps were tens of MB of objects alive at once beside their text. JSON.stringify
 * prints it as the array of its items (toJSON).
 */
export class LazyItems<T> {
  constructor(
    readonly length: number,
    private readonly item: (i: number) => T,
  ) {}

  at(i: number): T {
    return this.item(i);
  }

  toJSON(): T[] {
    return Array.from({ length: this.length }, (_, i) => this.item(i));
  }
}

/** An object JSON.stringify prints field by field (one with toJSON, or of a class, is left to it). */
function isPlainObject(v: unknown): v is Readonly<Record<string, unknown>> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}
