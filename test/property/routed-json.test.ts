/**
 * The byte reader of apps (src/marathon/routedJson.ts) against `routedApp(JSON.parse(text))`:
 * - over random JSON texts shaped like apps (routed keys at every level, duplicate keys, escaped
 *   keys, `__proto__`, any value where a routed object is expected, any whitespace), the same value;
 * - over those texts corrupted byte by byte, and over hand-picked texts JSON.parse refuses, NOT_JSON
 *   exactly when JSON.parse throws, and the same value otherwise;
 * - values nested far deeper than the reader recurses come out as JSON.parse makes them.
 */
import fc from 'fast-check';
import { objectEnd } from '../../src/marathon/appsBody';
import { routedApp } from '../../src/marathon/routedFields';
import { NOT_JSON, RoutedAppReader } from '../../src/marathon/routedJson';

const SEED = Number(process.env.MLB_PROPERTY_SEED ?? 20261203);

/** JSON whitespace, mostly none. */
const ws = fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n ');
/** Keys as written in the text: routed ones (some escaped), others, and JSON.parse's special one. */
const key = fc.oneof(
  fc.constantFrom(
    '"id"',
    '"tasks"',
    '"labels"',
    '"host"',
    '"ports"',
    '"container"',
    '"docker"',
    '"portMappings"',
    '"versionInfo"',
    '"lastScalingAt"',
    '"healthCheckResults"',
    '"alive"',
    '"network"',
    '"draining"',
    '"i\\u0064"',
    '"t\\u0061sks"',
    '"\\u0068ost"',
    '"__proto__"',
    '"0"',
    '"idx"',
    '"i"',
  ),
  fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
);
/** Strings as written: plain, escaped, non-ASCII, lone surrogates. */
const stringText = fc.oneof(
  fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
  fc.fullUnicodeString({ maxLength: 4 }).map((s) => JSON.stringify(s)),
  fc.constantFrom('"\\ud800"', '"\\u00e9\\n\\"\\\\\\/"', '"é😀"', '"\\uDC00x"', '""'),
);
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.constantFrom('-0', '0', '1e400', '-1e-400', '123456789012345678', '9007199254740993', '1.5E+3', '0.0e0'),
);

const { text: jsonText } = fc.letrec<{ text: string; object: string; array: string }>((tie) => ({
  text: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringText,
    numberText,
    fc.constantFrom('true', 'false', 'null'),
    tie('object'),
    tie('array'),
  ),
  object: fc
    .array(fc.tuple(ws, key, ws, ws, tie('text'), ws), { maxLength: 6 })
    .map((members) => `{${members.map(([a, k, b, c, v, d]) => `${a}${k}${b}:${c}${v}${d}`).join(',')}}`),
  array: fc
    .array(fc.tuple(ws, tie('text'), ws), { maxLength: 4 })
    .map((items) => `[${items.map(([a, v, b]) => `${a}${v}${b}`).join(',')}]`),
}));
/** An app's text: always an object at the top, so the reader is asked as its callers ask it. */
const appText = fc
  .array(fc.tuple(key, ws, jsonText), { maxLength: 10 })
  .map((members) => `{${members.map(([k, s, v]) => `${k}:${s}${v}`).join(',')}}`);

/** One reader for every test, as callers keep one: reads after refused ones must start clean. */
const reader = new RoutedAppReader();

/** What the reader gives for the app at the start of `bytes`, and where it ended. */
function read(bytes: Buffer): { readonly value: unknown; readonly end?: number } {
  const value = reader.read(bytes, 0);
  return value === NOT_JSON ? { value: NOT_JSON } : { value, end: reader.end };
}
/** The same by JSON.parse of the app's bytes (up to where its brackets close), cut down. */
function expected(bytes: Buffer): { readonly value: unknown; readonly end?: number } {
  const end = objectEnd(bytes, 0);
  if (end < 0) return { value: NOT_JSON };
  try {
    return { value: routedApp(JSON.parse(bytes.toString('utf8', 0, end))), end };
  } catch {
    return { value: NOT_JSON };
  }
}

/** Equal as JSON.parse values: same keys in the same order (own `__proto__` included), -0 apart from 0. */
function expectSame(actual: unknown, wanted: unknown): void {
  expect(actual).toStrictEqual(wanted);
  expect(JSON.stringify(actual)).toBe(JSON.stringify(wanted));
  expect(keyOrder(actual)).toEqual(keyOrder(wanted));
}
function keyOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keyOrder);
  if (typeof v !== 'object' || v === null) return Object.is(v, -0) ? '-0' : v;
  return Object.keys(v).map((k) => [k, keyOrder((v as Record<string, unknown>)[k])]);
}

describe('RoutedAppReader', () => {
  it('reads what routedApp(JSON.parse) gives for random app texts, and ends where the object does', () => {
    fc.assert(
      fc.property(appText, ws, (text, after) => {
        const bytes = Buffer.from(text + after + ',{"id":"/next"}', 'utf8');
        const got = read(bytes);
        const want = expected(bytes);
        expect(got.end).toBe(want.end);
        expectSame(got.value, want.value);
      }),
      { seed: SEED, numRuns: 4000 },
    );
  });

  it('refuses exactly what JSON.parse refuses, over texts corrupted byte by byte', () => {
    const corrupted = fc
      .tuple(
        appText,
        fc.nat(),
        fc.constantFrom('truncate', 'insert', 'delete', 'replace'),
        fc.constantFrom(
          ...'"\\{}[],: x1-.eE+0u/'.split('').map((c) => c.charCodeAt(0)),
          0x00,
          0x1f,
          0x7f,
          0xc3,
          0xe2,
          0xff,
          0xa0,
        ),
      )
      .map(([text, at, how, byte]) => {
        const good = Buffer.from(text, 'utf8');
        const i = at % good.length;
        const parts =
          how === 'truncate'
            ? [good.subarray(0, i)]
            : how === 'insert'
              ? [good.subarray(0, i), Buffer.from([byte]), good.subarray(i)]
              : how === 'delete'
                ? [good.subarray(0, i), good.subarray(i + 1)]
                : [good.subarray(0, i), Buffer.from([byte]), good.subarray(i + 1)];
        return Buffer.concat(parts);
      });
    fc.assert(
      fc.property(corrupted, (bytes) => {
        fc.pre(bytes[0] === 0x7b); // its callers read an app at its opening brace
        const got = read(bytes);
        const want = expected(bytes);
        expect(got.value === NOT_JSON).toBe(want.value === NOT_JSON);
        if (want.value !== NOT_JSON) {
          expect(got.end).toBe(want.end);
          expectSame(got.value, want.value);
        }
      }),
      { seed: SEED, numRuns: 6000 },
    );
  });

  it.each([
    ['a leading zero', '{"instances": 01}'],
    ['a bare dot', '{"instances": 1.}'],
    ['a bare minus', '{"x": -}'],
    ['an exponent without digits', '{"x": 1e}'],
    ['a plus sign', '{"x": +1}'],
    ['NaN', '{"x": NaN}'],
    ['hex', '{"x": 0x10}'],
    ['a single quote', "{'id': 1}"],
    ['a trailing comma in an object', '{"id": "/a",}'],
    ['a trailing comma in a skipped array', '{"env": [1,]}'],
    ['a trailing comma in a routed array', '{"tasks": [{"id": "t"},]}'],
    ['a missing colon', '{"id" "/a"}'],
    ['an unknown escape', '{"id": "\\x41"}'],
    ['a short unicode escape', '{"host": "\\u12"}'],
    ['a control character in a string', '{"host": "a\tb"}'],
    ['a control character in a skipped string', '{"cmd": "a\u0001b"}'],
    ['a non-breaking space between tokens', '{"id":\u00a0"/a"}'],
    ['a bad literal', '{"draining": tru}'],
    ['a key that is not a string', '{id: "/a"}'],
    ['an unclosed skipped object', '{"env": {"a": 1}'],
    ['a closing bracket of the other kind', '{"ports": [1, 2}}'],
    ['a BOM before a value', '{"id": \ufeff"/a"}'],
  ])('refuses %s, as JSON.parse does', (_, text) => {
    const bytes = Buffer.from(text, 'utf8');
    expect(expected(bytes).value).toBe(NOT_JSON);
    expect(read(bytes).value).toBe(NOT_JSON);
  });

  it('reads values nested deeper than it recurses, in routed and skipped fields alike', () => {
    const deep = (n: number): string => '['.repeat(n) + '{"a": "b"}' + ']'.repeat(n);
    const text = `{"labels": {"X": ${deep(600)}}, "env": ${deep(100000)}, "tasks": [{"ports": ${deep(300)}}]}`;
    const bytes = Buffer.from(text, 'utf8');
    const got = read(bytes);
    expect(got.end).toBe(bytes.length);
    expect(JSON.stringify(got.value)).toBe(JSON.stringify(routedApp(JSON.parse(text))));
  });

  it('gives each string its own text when thousands of short strings of one length share its table', () => {
    // More distinct strings of one length than the table has slots: some must land on a taken one.
    const labels = Object.fromEntries(
      Array.from({ length: 10000 }, (_, k) => [`K${k}`, `v${String((k * 7919) % 10000).padStart(5, '0')}`]),
    );
    const tasks = Array.from({ length: 2000 }, (_, k) => ({ id: `t${k}`, host: `10.0.${k % 7}.${k % 250}` }));
    const text = JSON.stringify({ id: '/a', labels, tasks, labelsAgain: labels });
    expectSame(read(Buffer.from(text)).value, routedApp(JSON.parse(text)));
  });

  it('reads invalid UTF-8 inside strings as U+FFFD, as a decoded text is read', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"id": "/a'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('", "x": 1}'),
    ]);
    expectSame(read(bytes).value, expected(bytes).value);
    expect((read(bytes).value as { id: string }).id).toBe('/a\ufffd(\ufffd');
  });
});
