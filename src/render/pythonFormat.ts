/**
 * The parts of Python's str.format that marathon-lb's users write in their templates beyond a plain
 * `{name}`: an item of a value (`{healthCheck[path]}`), a conversion (`{port!s}`, `!r`, `!a`) and a
 * format spec (`{servicePort:d}`, `{backend:>20}`). marathon-lb renders them with Python; refused
 * here, they left out apps that HAProxy serves (a migrating user's labels).
 *
 * Pure: a field is parsed once when its template is compiled (parseField) and applied to a value at
 * each render (formatField). What Python would raise on (a KeyError, a ValueError of the spec) is a
 * message naming the field: the template's app is left out, as marathon-lb's render failed for it.
 * Attribute access (`{backend.upper}`) prints a Python method's address there: it is refused.
 */

/** A replacement field with more than its name: how its value is taken and printed. */
export interface FieldFormat {
  /** The field as written between its braces, for messages. */
  readonly text: string;
  /** `[key]` lookups in order: digits index a list or string, anything else keys a dict. */
  readonly items: readonly (string | number)[];
  readonly conversion: 'r' | 's' | 'a' | null;
  readonly spec: FormatSpec | null;
}

interface FormatSpec {
  readonly fill: string;
  readonly align: '<' | '>' | '=' | '^' | null;
  readonly sign: '+' | '-' | ' ' | null;
  readonly alternate: boolean;
  readonly zero: boolean;
  readonly width: number;
  readonly grouping: ',' | '_' | null;
  readonly precision: number | null;
  readonly type: string;
}

/** A field's name: what the template's context provides. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const SPEC = /^(?:([\s\S])?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/;
/** Widths and precisions past this are refused: a label could make every server line megabytes long. */
const MAX_WIDTH = 4096;

/** A field `{…}`'s inner text parsed: its name and format, or why it cannot be rendered. */
export function parseField(
  field: string,
): { readonly key: string; readonly format: FieldFormat | null } | { readonly error: string } {
  const name = NAME.exec(field)?.[0];
  if (name === undefined) return { error: 'use {name}' };
  if (name.length === field.length) return { key: name, format: null };
  const items: (string | number)[] = [];
  let i = name.length;
  while (field[i] === '[' || field[i] === '.') {
    if (field[i] === '.') return { error: 'attribute access (.name) prints a Python method there; use [key]' };
    const close = field.indexOf(']', i);
    if (close < 0) return { error: "missing ']'" };
    const key = field.slice(i + 1, close);
    if (key === '') return { error: 'empty [] in the field' };
    items.push(/^\d+$/.test(key) ? Number(key) : key);
    i = close + 1;
  }
  let conversion: FieldFormat['conversion'] = null;
  if (field[i] === '!') {
    const c = field[i + 1];
    if (c !== 'r' && c !== 's' && c !== 'a') return { error: 'the conversion must be !r, !s or !a' };
    conversion = c;
    i += 2;
    if (i < field.length && field[i] !== ':') return { error: "expected ':' after the conversion" };
  }
  let spec: FormatSpec | null = null;
  // An empty spec (`{port:}`) is str(), as Python's format(v, '') is.
  if (field[i] === ':' && i + 1 < field.length) {
    const parsed = parseSpec(field.slice(i + 1));
    if (typeof parsed === 'string') return { error: parsed };
    spec = parsed;
  } else if (i < field.length && field[i] !== ':') return { error: "only '[' or '!' or ':' may follow a name or ']'" };
  return { key: name, format: { text: field, items, conversion, spec } };
}

function parseSpec(s: string): FormatSpec | string {
  if (s.includes('{')) return 'nested fields in a format spec are not supported';
  const m = SPEC.exec(s);
  if (m === null) return `invalid format spec ${JSON.stringify(s)}`;
  const width = m[6] === undefined ? 0 : Number(m[6]);
  const precision = m[8] === undefined ? null : Number(m[8]);
  if (width > MAX_WIDTH || (precision ?? 0) > MAX_WIDTH) return `widths and precisions are at most ${MAX_WIDTH}`;
  return {
    fill: m[1] ?? (m[5] !== undefined && m[2] === undefined ? '0' : ' '),
    align: (m[2] as FormatSpec['align']) ?? null,
    sign: (m[3] as FormatSpec['sign']) ?? null,
    alternate: m[4] !== undefined,
    zero: m[5] !== undefined,
    width,
    grouping: (m[7] as FormatSpec['grouping']) ?? null,
    precision,
    type: m[9] ?? '',
  };
}

/** The field's text for `value`, as Python's format prints it, or why Python would raise. */
export function formatField(value: unknown, f: FieldFormat): string | { readonly invalid: string } {
  let v = value;
  for (const key of f.items) {
    const next = item(v, key);
    if (next === NO_ITEM) return { invalid: `{${f.text}}: ${pyRepr(v)} has no item [${key}]` };
    v = next;
  }
  if (f.conversion !== null) v = f.conversion === 's' ? pyStr(v) : f.conversion === 'r' ? pyRepr(v) : ascii(pyRepr(v));
  if (f.spec === null) return pyStr(v);
  const out = withSpec(v, f.spec);
  return out.startsWith(FAULT) ? { invalid: `{${f.text}}: ${out.slice(FAULT.length)}` } : out;
}

const NO_ITEM = Symbol('no item');

function item(v: unknown, key: string | number): unknown {
  if (typeof v === 'string') return typeof key === 'number' && key < v.length ? v[key] : NO_ITEM;
  if (Array.isArray(v)) return typeof key === 'number' && key < v.length ? (v[key] as unknown) : NO_ITEM;
  // A JSON object's keys are strings: Python looks `[0]` up as the integer 0 and finds none.
  if (isRecord(v) && typeof key === 'string' && Object.hasOwn(v, key)) return v[key];
  return NO_ITEM;
}

const isRecord = (v: unknown): v is Readonly<Record<string, unknown>> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Python's str() of a JSON value. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null) return pyRepr(v);
  return pyScalar(v);
}

function pyScalar(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pyNumber(v);
  return typeof v === 'string' ? v : JSON.stringify(v); // no other JSON value comes here
}

/** Python's repr() of a JSON value. */
export function pyRepr(v: unknown): string {
  if (typeof v === 'string') return quoted(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isRecord(v))
    return `{${Object.keys(v)
      .map((k) => `${quoted(k)}: ${pyRepr(v[k])}`)
      .join(', ')}}`;
  return pyScalar(v);
}

/** A JSON number as Python prints it: integers whole, floats with Python's exponent rules. */
function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (Number.isInteger(n)) return BigInt(n).toString();
  const [digits, e] = n.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp >= -4 && exp < 16) return String(n);
  return `${digits}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Characters Python's repr escapes: control, format, separator and unassigned ones, and spaces but ' '. */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

function quoted(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    if (ch === q || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (NOT_PRINTABLE.test(ch)) out += escaped(ch.codePointAt(0)!);
    else out += ch;
  }
  return out + q;
}

function escaped(c: number): string {
  if (c < 0x100) return `\\x${c.toString(16).padStart(2, '0')}`;
  if (c < 0x10000) return `\\u${c.toString(16).padStart(4, '0')}`;
  return `\\U${c.toString(16).padStart(8, '0')}`;
}

/** Python's ascii(): a repr with every non-ASCII character escaped. */
export function ascii(repr: string): string {
  let out = '';
  for (const ch of repr) {
    const c = ch.codePointAt(0)!;
    out += c > 0x7f ? escaped(c) : ch;
  }
  return out;
}

/** withSpec's result when Python raises: the reason follows. */
const FAULT = '\u0000';

function withSpec(v: unknown, spec: FormatSpec): string {
  if (typeof v === 'string') return formatString(v, spec);
  // bool is an int to format() once a spec is given.
  if (typeof v === 'boolean') return formatInteger(v ? 1 : 0, spec);
  if (typeof v === 'number') return Number.isInteger(v) ? formatInteger(v, spec) : formatFloat(v, spec);
  return `${FAULT}a ${v === null || v === undefined ? 'None' : Array.isArray(v) ? 'list' : 'dict'} takes no format spec`;
}

function formatString(s: string, spec: FormatSpec): string {
  if (spec.type !== '' && spec.type !== 's') return `${FAULT}unknown format code '${spec.type}' for a string`;
  if (spec.sign !== null || spec.alternate || spec.grouping !== null || spec.align === '=')
    return `${FAULT}a string takes no sign, #, grouping or '=' alignment`;
  const text = spec.precision === null ? s : [...s].slice(0, spec.precision).join('');
  // '0' before the width is only the fill for a string (Python 3.10+): aligned left, not after a sign.
  return padded('', text, { ...spec, zero: false }, '<');
}

const INTEGER_BASES: Readonly<Record<string, number>> = { '': 10, d: 10, n: 10, b: 2, o: 8, x: 16, X: 16 };
const PREFIXES: Readonly<Record<string, string>> = { b: '0b', o: '0o', x: '0x', X: '0X' };

function formatInteger(n: number, spec: FormatSpec): string {
  const { type } = spec;
  if ('eEfFgG%'.includes(type) && type !== '') return formatFloat(n, spec);
  if (type === 'c') {
    if (spec.sign !== null || spec.alternate || spec.grouping !== null)
      return `${FAULT}'c' takes no sign, # or grouping`;
    if (n < 0 || n > 0x10ffff) return `${FAULT}%c arg not in range(0x110000)`;
    return padded('', String.fromCodePoint(n), spec, '<');
  }
  const base = INTEGER_BASES[type];
  if (base === undefined) return `${FAULT}unknown format code '${type}' for an integer`;
  if (spec.precision !== null) return `${FAULT}precision is not allowed for an integer`;
  if (spec.grouping === ',' && base !== 10) return `${FAULT}cannot use ',' with '${type}'`;
  if (spec.grouping !== null && type === 'n') return `${FAULT}cannot use '${spec.grouping}' with 'n'`;
  let digits = BigInt(Math.abs(n)).toString(base);
  if (type === 'X') digits = digits.toUpperCase();
  if (spec.grouping !== null) digits = grouped(digits, spec.grouping, base === 10 ? 3 : 4);
  const prefix = spec.alternate ? (PREFIXES[type] ?? '') : '';
  return padded(signOf(n < 0, spec) + prefix, digits, spec, '>');
}

/** Floats (and integers given a float type): fixed, exponent, general and percent forms. */
function formatFloat(x: number, spec: FormatSpec): string {
  const { type } = spec;
  if (!'eEfFgG%'.includes(type) || (type === '' && spec.precision !== null))
    return `${FAULT}format code '${type}' for a float is not supported here`;
  if (spec.grouping !== null) return `${FAULT}grouping of a float is not supported here`;
  const a = Math.abs(x);
  const p = spec.precision ?? 6;
  let body: string;
  if (type === '') body = pyNumber(a);
  else if (type === 'f' || type === 'F') body = a.toFixed(p);
  else if (type === '%') body = `${(a * 100).toFixed(p)}%`;
  else if (type === 'e' || type === 'E') body = exponent(a.toExponential(p));
  else body = general(a, p === 0 ? 1 : p, spec.alternate);
  if (type === 'E' || type === 'G' || type === 'F') body = body.toUpperCase();
  return padded(signOf(x < 0 || Object.is(x, -0), spec), body, spec, '>');
}

/** JS's `1.5e+0` as Python's `1.5e+00`. */
export const exponent = (js: string): string => js.replace(/e([+-])(\d)$/, 'e$10$2');

/** Python's 'g': `p` significant digits, fixed or exponent by the exponent, trailing zeros dropped. */
function general(a: number, p: number, keepZeros: boolean): string {
  const exp = Number(a.toExponential(p - 1).split('e')[1]);
  const trim = (s: string): string => (keepZeros || !s.includes('.') ? s : s.replace(/\.?0+$/, ''));
  if (exp >= -4 && exp < p) return trim(a.toFixed(p - 1 - exp));
  const [m, e] = a.toExponential(p - 1).split('e') as [string, string];
  return exponent(`${trim(m)}e${e}`);
}

function signOf(negative: boolean, spec: FormatSpec): string {
  if (negative) return '-';
  return spec.sign === '+' ? '+' : spec.sign === ' ' ? ' ' : '';
}

function grouped(digits: string, sep: string, every: number): string {
  let out = '';
  for (let i = digits.length; i > 0; i -= every) out = digits.slice(Math.max(0, i - every), i) + (out ? sep + out : '');
  return out;
}

/** `head` (sign, prefix) and `body` padded to the spec's width; '=' pads between them. */
function padded(head: string, body: string, spec: FormatSpec, defaultAlign: '<' | '>'): string {
  const len = [...head].length + [...body].length;
  const pad = Math.max(0, spec.width - len);
  if (pad === 0) return head + body;
  const align = spec.align ?? (spec.zero ? '=' : defaultAlign);
  const fill = (k: number): string => spec.fill.repeat(k);
  if (align === '<') return head + body + fill(pad);
  if (align === '>') return fill(pad) + head + body;
  if (align === '=') return head + fill(pad) + body;
  return fill(pad >> 1) + head + body + fill(pad - (pad >> 1));
}
