/**
 * The snapshot decoder (src/marathon/appsBody.ts) against JSON.parse: over random sequences of
 * answers (apps changed, moved, added, removed, reformatted; other shapes; hostile strings) every
 * decode equals JSON.parse of the same bytes (apps cut down to what routing reads, routedFields.ts),
 * an app whose bytes did not change is the very object
 * decoded last time, and corrupt bodies throw exactly when JSON.parse throws.
 */
import fc from 'fast-check';
import { AppsBodyDecoder, splitApps } from '../../src/marathon/appsBody';
import { routedBody } from '../../src/marathon/routedFields';
import { corruptBody } from './corruptBody';

const SEED = Number(process.env.MLB_PROPERTY_SEED ?? 20261202);

// Strings with what a splitter could trip over: quotes, backslashes, brackets, commas, non-ASCII.
const tricky = fc.stringOf(
  fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', ' ', 'a', 'é', '😀', '\n', '\u0000'),
  {
    maxLength: 12,
  },
);
const app = fc.record(
  {
    id: fc.constantFrom('/a', '/b', '/c', '/d', '/e', '/f'),
    labels: fc.dictionary(tricky, tricky, { maxKeys: 3 }),
    tasks: fc.array(fc.record({ id: tricky, host: tricky, ports: fc.array(fc.integer(), { maxLength: 2 }) }), {
      maxLength: 3,
    }),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: ['id'] },
);
// Mostly apps; now and then an item that is not an object (the whole body is parsed then).
const item = fc.oneof({ weight: 12, arbitrary: app }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) });

/** One answer's text: the items in some order and layout, now and then in another shape than `{"apps": […]}`. */
const answer = (pool: readonly unknown[]) =>
  fc
    .tuple(
      fc.subarray(pool.map((_, i) => i)),
      fc.constantFrom(undefined, 1, '\t', ' \n '),
      fc.constantFrom('plain', 'plain', 'plain', 'spaced', 'extra-key', 'key-last', 'escaped-key', 'not-object'),
      fc.array(fc.constantFrom(',', ', ', ' ,', ',\n', '\t,\r\n'), { minLength: 8, maxLength: 8 }),
    )
    .chain(([picked, indent, shape, separators]) =>
      fc.shuffledSubarray(picked, { minLength: picked.length }).map((order) => {
        const apps = order.map((i) => pool[i]);
        const text = (v: unknown): string => JSON.stringify(v, null, indent);
        switch (shape) {
          case 'extra-key':
            return text({ apps, version: 1 });
          case 'key-last':
            return text({ version: 1, apps });
          case 'escaped-key':
            return `{"\\u0061pps":${text(apps)}}`;
          case 'not-object':
            return text(apps);
          case 'spaced': // items as compact as ever, the bytes between them varied
            return `{"apps":[${apps.map((a, k) => (k === 0 ? '' : separators[k % 8]!) + JSON.stringify(a)).join('')}]}`;
          default:
            return text({ apps });
        }
      }),
    );

const decodeOrError = (d: AppsBodyDecoder, raw: Buffer): unknown => {
  try {
    return { value: d.decode(raw) };
  } catch {
    return 'throws';
  }
};
const parseOrError = (text: string): unknown => {
  try {
    return { value: routedBody(JSON.parse(text)) };
  } catch {
    return 'throws';
  }
};

/**
 * Decodes each text in turn, each gathered by `gather` (a buffer of the bytes), and checks every
 * decode against JSON.parse, and that an object of the last answer stands only for the same bytes.
 */
function checkSequence(
  texts: readonly string[],
  gather: (d: AppsBodyDecoder, text: string, k: number) => Buffer,
): void {
  const d = new AppsBodyDecoder();
  let before = new Map<string, unknown[]>(); // an app's bytes → the objects decoded for them
  texts.forEach((text, n) => {
    const decoded = d.decode(gather(d, text, n));
    expect(decoded).toEqual(routedBody(JSON.parse(text)));
    const raw = Buffer.from(text, 'utf8');
    const bounds = splitApps(raw);
    if (bounds === null) {
      before = new Map();
      return;
    }
    const apps = (decoded as { apps: unknown[] }).apps;
    const now = new Map<string, unknown[]>();
    let reused = 0;
    apps.forEach((a, k) => {
      const bytes = raw.toString('latin1', bounds[2 * k], bounds[2 * k + 1]);
      now.set(bytes, [...(now.get(bytes) ?? []), a]);
      // An object of the last answer may only stand for the same bytes.
      if ((before.get(bytes) ?? []).includes(a)) reused++;
    });
    expect(d.reused).toBe(reused);
    before = now;
  });
}

const answers = fc
  .array(item, { minLength: 1, maxLength: 8 })
  .chain((pool) => fc.array(answer(pool), { minLength: 1, maxLength: 6 }));

describe('AppsBodyDecoder', () => {
  it('equals JSON.parse over random sequences of answers, and reuses unchanged apps', () => {
    fc.assert(
      fc.property(answers, (texts) => checkSequence(texts, (_, text) => Buffer.from(text, 'utf8'))),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('the same through its sinks, in random pieces, with abandoned and corrupt answers between', () => {
    fc.assert(
      fc.property(
        answers,
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.constantFrom('none', 'abandoned', 'corrupt'), { minLength: 6, maxLength: 6 }),
        (texts, pieces, between) =>
          checkSequence(texts, (d, text, n) => {
            // A fetch that failed half way (its sink dropped), or an answer that did not decode.
            if (between[n] === 'abandoned') d.sink().push(Buffer.from('{"apps":[{"id":"/x"'));
            if (between[n] === 'corrupt') {
              const bad = d.sink();
              bad.push(Buffer.from(`${text}]`));
              expect(() => d.decode(bad.bytes())).toThrow();
            }
            const bytes = Buffer.from(text, 'utf8');
            const sink = d.sink();
            for (let i = 0, k = 0; i < bytes.length; k++) {
              const size = pieces[k % pieces.length]!;
              sink.push(bytes.subarray(i, i + size));
              i += size;
            }
            return sink.bytes();
          }),
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('throws exactly when JSON.parse does, for corrupt answers after a good one', () => {
    fc.assert(
      fc.property(corruptBody(fc.array(app, { minLength: 1, maxLength: 5 })), ({ good, bad }) => {
        const d = new AppsBodyDecoder();
        d.decode(good);
        expect(decodeOrError(d, bad)).toEqual(parseOrError(bad.toString('utf8')));
        // …and it decodes the good one again afterwards.
        expect(d.decode(good)).toEqual(routedBody(JSON.parse(good.toString('utf8'))));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('parses only the apps whose bytes changed: one scaled app in 1 000', () => {
    const apps = Array.from({ length: 1000 }, (_, i) => ({ id: `/app-${i}`, instances: 3, tasks: [{ id: `t${i}` }] }));
    const d = new AppsBodyDecoder();
    const first = d.decode(Buffer.from(JSON.stringify({ apps }))) as { apps: unknown[] };
    const scaled = apps.map((a, i) => (i === 500 ? { ...a, instances: 4, tasks: [...a.tasks, { id: 'new' }] } : a));
    const second = d.decode(Buffer.from(JSON.stringify({ apps: scaled }))) as { apps: unknown[] };
    expect(d.reused).toBe(999);
    expect(second.apps[499]).toBe(first.apps[499]);
    expect(second.apps[500]).not.toBe(first.apps[500]);
    expect(second.apps[500]).toEqual(scaled[500]);
    // One app gone and one new at the front: the others are still found, moved.
    const third = d.decode(Buffer.from(JSON.stringify({ apps: [{ id: '/new' }, ...scaled.slice(1)] }))) as {
      apps: unknown[];
    };
    expect(d.reused).toBe(999);
    expect(third.apps[999]).toBe(second.apps[999]);
  });

  it('checks the bytes between reused apps too: an app found at a shifted place is not taken for the last one', () => {
    const a = '{"id":"/a"}';
    const b = '{"id":"/b"}';
    const d = new AppsBodyDecoder();
    d.decode(Buffer.from(`{"apps":[${a},     ${b}]}`));
    // The last answer's /b is at the same byte offset here, inside an object that never closes: not JSON.
    const bad = `{"apps":[${a},{"x":${b}]}`;
    expect(parseOrError(bad)).toBe('throws');
    expect(decodeOrError(d, Buffer.from(bad))).toBe('throws');
  });
});
