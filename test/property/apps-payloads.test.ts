/**
 * Issue 9, "Must show": over >= 10 000 generated apps payloads (hostile strings in every label and
 * field, wrong types, nulls, out-of-range numbers) the `--dry` path never throws, no value reaches
 * the config as a line break, no label text can expand an environment variable, and a real
 * `haproxy -c` accepts every config.
 *
 * `haproxy -c` costs ~0.1 s of start-up per call, so configs are checked in batches: the
 * payloads of a batch have distinct app ids (prefix p<k>), their shared frontends are renamed
 * apart and their other sections are kept as rendered (see mergeConfigs); a failing batch is
 * re-checked payload by payload to name the culprit. Failing payloads are written to
 * test-output/property-failures/ to be kept under test/fixtures/property/ (replayed below).
 *
 * MLB_PROPERTY_SEED and MLB_PROPERTY_RUNS change the seed and count (defaults: fixed seed, 10 000).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describeWithHaproxy } from '../support/haproxy';
import { REPO_ROOT } from '../support/paths';
import { tempDir } from '../support/render';
import { caseArbitrary, type Case } from './appsArbitrary';
import { checkAll, mergeConfigs, prepare, pureViolations, renderCase, templates, writeMaps } from './configChecks';

const SEED = Number(process.env.MLB_PROPERTY_SEED ?? 20261201);
const RUNS = Number(process.env.MLB_PROPERTY_RUNS ?? 10000);
const BATCH = 100;
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'property');
const FAILURES = path.join(REPO_ROOT, 'test-output', 'property-failures');

jest.setTimeout(170_000);

function makePem(dir: string): string {
  const pem = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=marathon-lb-property',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'crt.pem'),
    ],
    { stdio: 'pipe' },
  );
  fs.writeFileSync(
    pem,
    fs.readFileSync(path.join(dir, 'crt.pem'), 'utf8') + fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
  );
  return pem;
}

interface Judged {
  readonly name: string;
  readonly c: Case;
  readonly failures: string[];
}

/** Renders every case, applies the pure checks, and runs `haproxy -c` over them in batches. */
async function judge(cases: readonly { name: string; c: Case }[], root: string, pem: string): Promise<Judged[]> {
  const t = templates();
  const judged: Judged[] = cases.map(({ name, c }) => ({ name, c, failures: [] }));
  const configs: { k: number; config: string; cfgPath: string }[] = [];
  writeMaps(root);
  judged.forEach((j, k) => {
    try {
      const r = renderCase(j.c, prepare(j.c.body, k, pem), root, pem, t);
      j.failures.push(...pureViolations(r.snapshot, j.c.flags.refuseAppTemplates));
      if (r.snapshot.ok)
        configs.push({ k, config: `${r.snapshot.value.rendered.config}\n`, cfgPath: path.join(root, `p${k}.cfg`) });
    } catch (e) {
      j.failures.push(`exception: ${(e as Error).stack ?? String(e)}`);
    }
  });

  const alone: typeof configs = [];
  const batches: { file: string; members: typeof configs }[] = [];
  for (let i = 0; i < configs.length; i += BATCH) {
    const members = configs.slice(i, i + BATCH);
    const merged = mergeConfigs(members);
    if (merged === null) {
      alone.push(...members);
      continue;
    }
    const file = path.join(root, `batch${i}.cfg`);
    fs.writeFileSync(file, merged);
    batches.push({ file, members });
  }
  const results = await checkAll(
    batches.map((b) => b.file),
    2,
  );
  for (const r of results) if (!r.ok) alone.push(...batches.find((b) => b.file === r.file)!.members);
  for (const m of alone) fs.writeFileSync(m.cfgPath, m.config);
  const single = await checkAll(
    alone.map((m) => m.cfgPath),
    2,
  );
  for (const r of single) {
    if (r.ok) continue;
    const m = alone.find((x) => x.cfgPath === r.file)!;
    judged[m.k]!.failures.push(
      `haproxy -c rejects the config:\n${r.output
        .split('\n')
        .filter((l) => /ALERT/.test(l))
        .slice(0, 5)
        .join('\n')}`,
    );
  }
  return judged;
}

function report(judged: readonly Judged[]): string[] {
  const bad = judged.filter((j) => j.failures.length > 0);
  if (bad.length > 0) fs.mkdirSync(FAILURES, { recursive: true });
  for (const j of bad) {
    fs.writeFileSync(
      path.join(FAILURES, `${j.name}.json`),
      `${JSON.stringify({ note: j.failures[0]!.slice(0, 300), flags: j.c.flags, body: j.c.body }, null, 1)}\n`,
    );
  }
  return bad.map((j) => `${j.name}: ${j.failures.join('; ').slice(0, 600)}`);
}

describeWithHaproxy('generated apps payloads through the --dry path', () => {
  let root: string;
  let pem: string;
  beforeAll(() => {
    root = tempDir('mlb-property-');
    pem = makePem(root);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test(`${RUNS} payloads (seed ${SEED}): no exception, no injected line, no env expansion, all pass haproxy -c`, async () => {
    const samples = fc.sample(caseArbitrary, { seed: SEED, numRuns: RUNS });
    expect(samples).toHaveLength(RUNS);
    const judged = await judge(
      samples.map((c, i) => ({ name: `seed${SEED}-${i}`, c })),
      root,
      pem,
    );
    const served = judged.length;
    expect(served).toBe(RUNS);
    expect(report(judged)).toEqual([]);
  });

  test('kept regression cases (test/fixtures/property) still pass', async () => {
    const files = fs
      .readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files.length).toBeGreaterThan(0);
    const cases = files.map((f) => {
      const j = JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')) as { flags: Case['flags']; body: unknown };
      return { name: `fixture-${f.replace(/\.json$/, '')}`, c: { flags: j.flags, body: j.body } };
    });
    const dir = fs.mkdtempSync(path.join(root, 'fixtures-'));
    expect(report(await judge(cases, dir, pem))).toEqual([]);
  });
});
