import { MAX_BODY_VALUES, tooManyValues } from './appsBound';
import { ROUTED_APP, type RoutedShape } from './routedFields';

/**
 * `routedApp(JSON.parse(text))` of one app of an answer, read straight from its bytes: the JSON is
 * checked whole, as JSON.parse checks it, but only the routed fields become values.
 *
 * An app of `/v2/apps?embed=apps.tasks` is two thirds fields that routing never reads (timestamps,
 * agent ids, health check histories, images). Parsed whole, they were most of a 5 000-app answer's
 * allocation: 34 MB of objects made only to be dropped, and the scavenges that copied them. Here
 * they are walked over, and only what routedFields.ts names is built.
 *
 * The value equals routedApp of JSON.parse of the same bytes decoded as UTF-8 (an invalid sequence
 * inside a string is U+FFFD there and here; outside one it is an error for both), duplicate keys
 * included: the last one counts. Anything JSON.parse would refuse gives NOT_JSON, and so may a value
 * nested deeper than the stack allows: the caller then parses the whole body, for its value or its
 * error (test/property/routed-json.test.ts compares both readers over random and corrupt bytes).
 */
export const NOT_JSON: unique symbol = Symbol('not JSON');

/**
 * Reads apps from buffers of JSON (one answer's, or the pieces of a file); `end` is where the last
 * read app ended. The strings it made are kept for the next reads (ByteJson.shared).
 */
export class RoutedAppReader {
  end = 0;
  private readonly bytes = new ByteJson();

  /** The routed app whose JSON value starts at `start` in `b` (no whitespace before it), or NOT_JSON. */
  read(b: Buffer, start: number): unknown {
    const r = this.bytes;
    r.b = b;
    r.pos = start;
    try {
      const app = r.shaped(APP, 0);
      this.end = r.pos;
      return app;
    } catch (e) {
      r.abandon();
      if (e instanceof InvalidJson || e instanceof SyntaxError || e instanceof RangeError) return NOT_JSON;
      throw e;
    }
  }
}

/** A RoutedShape with its keys as bytes, to match keys without making strings of them. */
interface Compiled {
  readonly keys: readonly string[];
  readonly keyBytes: readonly Buffer[];
  readonly kinds: readonly ('value' | 'object' | 'items')[];
  readonly shapes: readonly (Compiled | null)[];
}

function compile(s: RoutedShape): Compiled {
  return {
    keys: s.fields.map((f) => f.key),
    keyBytes: s.fields.map((f) => Buffer.from(f.key, 'latin1')),
    kinds: s.fields.map((f) => f.kind),
    shapes: s.fields.map((f) => (f.kind === 'value' ? null : compile(f.shape))),
  };
}
const APP = compile(ROUTED_APP);

/** Thrown at bytes JSON.parse would refuse; caught by RoutedAppReader.read. */
class InvalidJson extends Error {}
/** A field not seen (yet) in the object being read. */
const ABSENT = Symbol('absent');
/** Values nested deeper are parsed by JSON.parse from their text (this reader recurses; it does not). */
const MAX_DEPTH = 64;

/** Strings up to this long are looked up in ByteJson's table of strings already made. */
const SHARED_MAX = 32;
const SHARED_SLOTS = 4096;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;
const isHex = (c: number | undefined): boolean =>
  c !== undefined && ((c >= ZERO && c <= NINE) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66));

/** A cursor over JSON bytes: `pos` moves past what each method reads; InvalidJson is thrown at a fault. */
class ByteJson {
  pos = 0;
  /** Whether the last string read had an escape or a non-ASCII byte (set by stringEnd). */
  private escaped = false;
  private ascii = true;
  /** Whether the last number read is an integer of at most 15 digits (set by numberEnd). */
  private integer = false;
  /**
   * skip()'s open brackets, 1 for an object and 0 for an array, below `depth` (it walks without
   * recursing); written in place, not pushed and popped, so that it is not shrunk and grown again.
   */
  private readonly open: number[] = [];
  /**
   * The fields of the routed objects and the items of the arrays being read, nested ones above
   * those they are in; `top` is where the next goes. One stack for the whole read: no scratch
   * array per object, and no array grown by push and then copied.
   */
  private readonly stack: unknown[] = [];
  private top = 0;
  /** Array items and object fields made so far, for the body's bound (appsBound.ts). */
  made = 0;

  /** shared()'s strings by a hash of their bytes, one per slot (the last one made). */
  private readonly sharedStrings = new Array<string | undefined>(SHARED_SLOTS).fill(undefined);

  b: Buffer = Buffer.alloc(0);

  /** After a read that threw half way: what it had put on the stack is dropped (the next read starts clean). */
  abandon(): void {
    this.stack.length = 0;
    this.top = 0;
  }

  /** The routed fields of the object at pos (cut by `s`); any other value whole. */
  shaped(s: Compiled, depth: number): unknown {
    const b = this.b;
    if (b[this.pos] !== OPEN_BRACE) return this.value(depth);
    this.pos++;
    this.space();
    if (b[this.pos] === CLOSE_BRACE) {
      this.pos++;
      return {};
    }
    // This object's fields, last one of each key kept, on the stack above those of the objects it is in.
    const slots = this.stack;
    const base = this.top;
    const n = s.keys.length;
    this.top += n;
    for (let k = base; k < this.top; k++) slots[k] = ABSENT;
    for (;;) {
      if (++this.made > MAX_BODY_VALUES) throw tooManyValues();
      const k = this.field(s);
      this.space();
      if (k < 0) this.skip();
      else {
        const kind = s.kinds[k];
        slots[base + k] =
          kind === 'value'
            ? this.value(depth + 1)
            : kind === 'object'
              ? this.shaped(s.shapes[k]!, depth + 1)
              : this.items(s.shapes[k]!, depth + 1);
      }
      this.space();
      const c = b[this.pos++];
      if (c === CLOSE_BRACE) break;
      if (c !== COMMA) throw new InvalidJson();
      this.space();
    }
    const out: Record<string, unknown> = {};
    for (let k = 0; k < n; k++) {
      const v = slots[base + k];
      if (v !== ABSENT) out[s.keys[k]!] = v;
      slots[base + k] = undefined; // not kept alive by the stack
    }
    this.top = base;
    return out;
  }

  /** An array at pos with each object cut by `s`; any other value whole. */
  private items(s: Compiled, depth: number): unknown {
    if (this.b[this.pos] !== OPEN_BRACKET) return this.value(depth);
    const base = this.top;
    this.pos++;
    this.space();
    if (this.b[this.pos] === CLOSE_BRACKET) {
      this.pos++;
      return [];
    }
    for (;;) {
      if (++this.made > MAX_BODY_VALUES) throw tooManyValues();
      const item = this.shaped(s, depth + 1);
      this.stack[this.top++] = item;
      this.space();
      const c = this.b[this.pos++];
      if (c === CLOSE_BRACKET) return this.itemsFrom(base);
      if (c !== COMMA) throw new InvalidJson();
      this.space();
    }
  }

  /**
   * The items read since `base`, as an array of their exact length (as JSON.parse makes it: one grown
   * by push keeps room for 17, and most arrays here hold one to three items).
   */
  private itemsFrom(base: number): unknown[] {
    const out = this.stack.slice(base, this.top);
    this.stack.fill(undefined, base, this.top);
    this.top = base;
    return out;
  }

  /** The key at pos and its colon: the index of the field of `s` it names, or -1. */
  private field(s: Compiled): number {
    const b = this.b;
    if (b[this.pos] !== QUOTE) throw new InvalidJson();
    const start = this.pos + 1;
    const end = this.stringEnd(start);
    this.pos = end + 1;
    this.colon();
    if (this.escaped) return s.keys.indexOf(JSON.parse(b.toString('utf8', start - 1, end + 1)) as string);
    const len = end - start;
    for (let k = 0; k < s.keyBytes.length; k++) {
      const key = s.keyBytes[k]!;
      if (key.length !== len) continue;
      let i = 0;
      while (i < len && key[i] === b[start + i]) i++;
      if (i === len) return k;
    }
    return -1;
  }

  private colon(): void {
    this.space();
    if (this.b[this.pos] !== COLON) throw new InvalidJson();
    this.pos++;
    this.space();
  }

  /** The whole JSON value at pos, as JSON.parse makes it. */
  private value(depth: number): unknown {
    const b = this.b;
    const c = b[this.pos];
    if (c === QUOTE) return this.string();
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth > MAX_DEPTH) {
        const start = this.pos;
        this.skip();
        return JSON.parse(b.toString('utf8', start, this.pos));
      }
      return c === OPEN_BRACE ? this.object(depth) : this.array(depth);
    }
    if (c === 0x74) return this.literal('true', true);
    if (c === 0x66) return this.literal('false', false);
    if (c === 0x6e) return this.literal('null', null);
    return this.number();
  }

  private object(depth: number): Record<string, unknown> {
    const b = this.b;
    const out: Record<string, unknown> = {};
    this.pos++;
    this.space();
    if (b[this.pos] === CLOSE_BRACE) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (++this.made > MAX_BODY_VALUES) throw tooManyValues();
      if (b[this.pos] !== QUOTE) throw new InvalidJson();
      const key = this.string();
      this.colon();
      const v = this.value(depth + 1);
      // As JSON.parse: an own property, even named __proto__.
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.space();
      const c = b[this.pos++];
      if (c === CLOSE_BRACE) return out;
      if (c !== COMMA) throw new InvalidJson();
      this.space();
    }
  }

  private array(depth: number): unknown[] {
    const b = this.b;
    const base = this.top;
    this.pos++;
    this.space();
    if (b[this.pos] === CLOSE_BRACKET) {
      this.pos++;
      return [];
    }
    for (;;) {
      if (++this.made > MAX_BODY_VALUES) throw tooManyValues();
      const item = this.value(depth + 1);
      this.stack[this.top++] = item;
      this.space();
      const c = b[this.pos++];
      if (c === CLOSE_BRACKET) return this.itemsFrom(base);
      if (c !== COMMA) throw new InvalidJson();
      this.space();
    }
  }

  private string(): string {
    const start = this.pos + 1;
    const end = this.stringEnd(start);
    this.pos = end + 1;
    if (this.escaped) return JSON.parse(this.b.toString('utf8', start - 1, end + 1)) as string;
    if (!this.ascii) return this.b.toString('utf8', start, end);
    return end - start <= SHARED_MAX ? this.shared(start, end) : this.b.toString('latin1', start, end);
  }

  /**
   * A short ASCII string, the very one made last time for the same bytes when it is still in the
   * table: a task's state, host and versions repeat across tasks and apps, and one copy of each is
   * kept instead of one per field (a fifth of what a 5 000-app answer's routed apps hold).
   */
  private shared(start: number, end: number): string {
    const b = this.b;
    let h = end - start;
    for (let i = start; i < end; i++) h = (Math.imul(h, 31) + b[i]!) | 0;
    const slot = h & (SHARED_SLOTS - 1);
    const seen = this.sharedStrings[slot];
    if (seen !== undefined && seen.length === end - start) {
      let k = 0;
      while (k < seen.length && seen.charCodeAt(k) === b[start + k]) k++;
      if (k === seen.length) return seen;
    }
    const made = b.toString('latin1', start, end);
    this.sharedStrings[slot] = made;
    return made;
  }

  /** The index of the quote that closes the string whose text starts at `i`; sets escaped and ascii. */
  private stringEnd(i: number): number {
    const b = this.b;
    const n = b.length;
    let escaped = false;
    let ascii = true;
    for (; i < n; i++) {
      const c = b[i]!;
      if (c === QUOTE) {
        this.escaped = escaped;
        this.ascii = ascii;
        return i;
      }
      if (c < 0x20) throw new InvalidJson();
      if (c >= 0x80) ascii = false;
      else if (c === BACKSLASH) {
        escaped = true;
        const e = b[++i];
        if (e === 0x75) {
          if (!isHex(b[i + 1]) || !isHex(b[i + 2]) || !isHex(b[i + 3]) || !isHex(b[i + 4])) throw new InvalidJson();
          i += 4;
        } else if (
          e !== QUOTE &&
          e !== BACKSLASH &&
          e !== 0x2f && // /
          e !== 0x62 && // b
          e !== 0x66 && // f
          e !== 0x6e && // n
          e !== 0x72 && // r
          e !== 0x74 // t
        )
          throw new InvalidJson();
      }
    }
    throw new InvalidJson();
  }

  private literal(word: string, v: boolean | null): boolean | null {
    const b = this.b;
    for (let k = 0; k < word.length; k++) if (b[this.pos + k] !== word.charCodeAt(k)) throw new InvalidJson();
    this.pos += word.length;
    return v;
  }

  /** A number as JSON.parse reads it: small integers summed here, the rest by Number (the same rounding). */
  private number(): number {
    const b = this.b;
    const start = this.pos;
    const end = this.numberEnd();
    if (!this.integer) return Number(b.toString('latin1', start, end));
    let v = 0;
    const negative = b[start] === MINUS;
    for (let k = negative ? start + 1 : start; k < end; k++) v = v * 10 + (b[k]! - ZERO);
    return negative ? -v : v;
  }

  /** Past the number at pos, checked; sets `integer` when it is one of at most 15 digits (summed exactly). */
  private numberEnd(): number {
    const b = this.b;
    let i = this.pos;
    if (b[i] === MINUS) i++;
    const digits = i;
    if (b[i] === ZERO) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else throw new InvalidJson();
    let integer = i - digits <= 15;
    if (b[i] === DOT) {
      integer = false;
      if (!isDigit(b[++i])) throw new InvalidJson();
      while (isDigit(b[i])) i++;
    }
    if ((b[i]! | 0x20) === 0x65) {
      integer = false;
      i++;
      if (b[i] === PLUS || b[i] === MINUS) i++;
      if (!isDigit(b[i])) throw new InvalidJson();
      while (isDigit(b[i])) i++;
    }
    this.integer = integer;
    return (this.pos = i);
  }

  private space(): void {
    const b = this.b;
    let i = this.pos;
    for (;;) {
      const c = b[i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.pos = i;
  }

  /** Past the value at pos, checking it as JSON.parse would, without making anything of it. */
  private skip(): void {
    const b = this.b;
    const open = this.open;
    let depth = 0;
    for (;;) {
      // A value at pos.
      const c = b[this.pos];
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.pos++;
        this.space();
        const close = c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
        if (b[this.pos] === close) this.pos++;
        else {
          open[depth++] = c === OPEN_BRACE ? 1 : 0;
          if (c === OPEN_BRACE) this.keyAt();
          continue;
        }
      } else if (c === QUOTE) this.pos = this.stringEnd(this.pos + 1) + 1;
      else if (c === 0x74) this.literal('true', true);
      else if (c === 0x66) this.literal('false', false);
      else if (c === 0x6e) this.literal('null', null);
      else this.numberEnd();
      // After a value: the brackets it closes, then a comma (and a key in an object) or the end.
      for (;;) {
        if (depth === 0) return;
        this.space();
        const inObject = open[depth - 1] === 1;
        const d = b[this.pos++];
        if (d === COMMA) {
          this.space();
          if (inObject) this.keyAt();
          break;
        }
        if (d !== (inObject ? CLOSE_BRACE : CLOSE_BRACKET)) throw new InvalidJson();
        depth--;
      }
    }
  }

  /** A key and its colon at pos, checked and passed over. */
  private keyAt(): void {
    if (this.b[this.pos] !== QUOTE) throw new InvalidJson();
    this.pos = this.stringEnd(this.pos + 1) + 1;
    this.colon();
  }
}
