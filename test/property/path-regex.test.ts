/**
 * HAPROXY_{n}_PATH with `-m reg`: every pattern the label check lets through must compile in the
 * real HAProxy (a regex it refuses fails the whole config). Random patterns from regex pieces are
 * read as labels; the ones served are printed as the templates print them
 * (`acl … path_beg <label>`), a batch per config, and a real `haproxy -c` must accept each batch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { readPortLabels } from '../../src/model/labels';
import { checkConfig, describeWithHaproxy } from '../support/haproxy';
import { tempDir } from '../support/render';

const SEED = Number(process.env.MLB_PROPERTY_SEED ?? 20261203);
const RUNS = 6000;
const BATCH = 500;

const PIECES = [
  'a',
  '/',
  '.',
  '^',
  '$',
  '|',
  '(',
  ')',
  '(?:',
  '(?=',
  '(?!',
  '(?<=',
  '(?P<n>',
  '[',
  ']',
  '[^',
  '-',
  '*',
  '+',
  '?',
  '{2}',
  '{2,}',
  '{1,3}',
  '{3,1}',
  '{,2}',
  '{',
  '}',
  '{70000}',
  '\\d',
  '\\w',
  '\\s',
  '\\b',
  '\\.',
  '\\/',
  '\\-',
  '\\\\',
  '\\1',
  '\\q',
  '\\x41',
  '\\t',
  'é',
  '[:alpha:]',
  '0-9',
  'z-a',
  '\\ ',
  '\\#',
  '#',
  '"',
  "'",
  '(?i)',
  '\\Q',
  '\\E',
  '\\p{L}',
  '\\pL',
  '\\P{Lu}',
  '\\p{Greek}',
  '\\p{Foo}',
  '\\p{L&}',
  '\\k<n>',
  '\\k{n}',
  '(?P=n)',
  '\\K',
  '\\N',
  '\\X',
  '\\cA',
  '\\o{101}',
  '\\o{777}',
  '\\\\x{263a}',
  '\\\\x4',
  '{0}',
  '(*',
  '\\0',
  '\\z',
  '\\c',
  '\\e',
  ':',
  '=',
  '\\]',
  '\\[',
  '$x',
  '(?i:',
  '(?-i)',
  '(?<n>',
  "(?'n'",
  '(?<m>',
  '(?>',
  '(?<=a)',
  '(?<!ab)',
  '(?<=a|bc)',
  '(?<=a+)',
  '\\A',
  '\\Z',
  '\\h',
  '\\R',
  '[[:alpha:]]',
  '[[:^digit:]]',
  '[[:foo:]]',
  '[[.a.]]',
  '[]a]',
  '[^]a]',
  '[:a-z]',
  '(?x)',
  '(?)',
  '(?-)',
];

/** A label value: `-m reg`, maybe `-i`, then one or two patterns made of the pieces above. */
const labelValue = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 2 }),
  )
  .map(([i, patterns]) => `${i ? '-i ' : ''}-m reg ${patterns.map((p) => p.join('')).join(' ')}`);

describeWithHaproxy('PATH regexes the label check serves compile in HAProxy', () => {
  jest.setTimeout(120_000);
  test(`${RUNS} random -m reg labels: every served one passes haproxy -c`, async () => {
    const values = fc.sample(labelValue, { numRuns: RUNS, seed: SEED });
    const served: string[] = [];
    for (const v of values) {
      const s = readPortLabels('/p', new Map([['PATH', v]]), 0);
      if (!('label' in s) && s.path !== null) served.push(s.path);
    }
    // Enough of each kind to mean something: served ones and refused ones.
    expect(served.length).toBeGreaterThan(RUNS / 20);
    expect(served.length).toBeLessThan(RUNS);
    const dir = tempDir('mlb-path-regex-');
    try {
      for (let b = 0; b < served.length; b += BATCH) {
        const batch = served.slice(b, b + BATCH);
        const cfg = path.join(dir, `batch-${b}.cfg`);
        fs.writeFileSync(
          cfg,
          [
            'defaults',
            '  mode http',
            '  timeout client 1s',
            '  timeout server 1s',
            '  timeout connect 1s',
            'frontend f',
            '  bind 127.0.0.1:18081',
            ...batch.flatMap((p, k) => [`  acl path_${k} path_beg ${p}`, `  use_backend b if path_${k}`]),
            'backend b',
            '  server s 127.0.0.1:1',
            '',
          ].join('\n'),
        );
        const check = await checkConfig(cfg);
        const alerts = check.output.split('\n').filter((l) => l.includes('[ALERT]'));
        expect(alerts).toEqual([]);
        expect(check.ok).toBe(true);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
