import fc from 'fast-check';
import { findCulprits, type Verdict } from '../../src/haproxy/isolate';
import { err, ok } from '../../src/result';
import { rejectedAtGate, rejectedByHang, type Candidates } from '../../src/haproxy/rejections';
import type { Service } from '../../src/model/types';
import type { DesiredState } from '../../src/reconcile/applyPort';
import { makeServer, makeService } from '../support/fixtures';
import { linesNaming, proxiesNamed } from '../../src/haproxy/validate';

interface Item {
  readonly backend: string;
}
const items = (n: number): Item[] =>
  Array.from({ length: n }, (_, i) => ({ backend: `app${String(i).padStart(4, '0')}` }));
const name = (s: Item): string => s.backend;

/**
 * Stands in for `haproxy -c`: a subset fails when it holds a bad backend, or both backends of a
 * pair that is bad only in combination. `hints`: name the bad backends (as HAProxy's alerts do).
 */
function checker(
  bad: ReadonlySet<string>,
  opts: { pairs?: readonly (readonly [string, string])[]; hints?: 'all' | 'none' | 'wrong' } = {},
) {
  let calls = 0;
  const check = async (subset: readonly Item[]): Promise<Verdict> => {
    calls++;
    const here = new Set(subset.map(name));
    const hits = subset.filter((s) => bad.has(s.backend)).map(name);
    const pair = (opts.pairs ?? []).find(([a, b]) => here.has(a) && here.has(b));
    if (hits.length === 0 && pair === undefined) return ok(undefined);
    const message =
      hits.length > 0 ? `parsing [haproxy.cfg] : error in backend ${hits[0]}` : `${pair![0]} and ${pair![1]} clash`;
    const named =
      opts.hints === 'all'
        ? hits
        : opts.hints === 'wrong'
          ? subset
              .filter((s) => !bad.has(s.backend))
              .slice(0, 3)
              .map(name)
          : undefined;
    return err({ message, ...(named === undefined ? {} : { named }) });
  };
  return { check, calls: () => calls };
}

const log2 = (n: number): number => Math.ceil(Math.log2(Math.max(2, n)));
/** [] + the whole set + splitting (at most two checks per failing node of the halving tree) + the final check. */
const splittingBound = (k: number, n: number): number => 3 + 2 * k * log2(n);

describe('findCulprits: leave out every app HAProxy rejects, in O(k·log n) checks', () => {
  test('25 bad among 1 000, no hints: all found, none wrongly, within 2·k·⌈log2 n⌉ + 3 checks', async () => {
    const all = items(1000);
    const bad = new Set(all.filter((_, i) => (i * 7919) % 40 === 3).map(name));
    expect(bad.size).toBe(25);
    const c = checker(bad);
    const r = await findCulprits(all, c.check, { name });
    if (!r.ok) throw new Error(r.error.message);
    expect(new Set(r.value.culprits.map((x) => x.item.backend))).toEqual(bad);
    expect(r.value.kept).toEqual(all.filter((s) => !bad.has(s.backend)));
    expect(r.value.culprits.every((x) => x.alone && x.message.includes(x.item.backend))).toBe(true);
    expect(r.value.checks).toBe(c.calls());
    expect(c.calls()).toBeLessThanOrEqual(splittingBound(25, 1000)); // 503
    console.log(
      `findCulprits: 25 of 1000 found in ${c.calls()} checks without hints (bound ${splittingBound(25, 1000)})`,
    );
  });

  test('with HAProxy naming the proxies: each named one is confirmed alone, k + 3 checks', async () => {
    const all = items(1000);
    const bad = new Set(all.filter((_, i) => i % 40 === 0).map(name));
    const c = checker(bad, { hints: 'all' });
    const r = await findCulprits(all, c.check, { name });
    expect(r.ok && r.value.culprits.length).toBe(25);
    expect(c.calls()).toBe(25 + 3);
  });

  test('a hint is never trusted without its own check: wrong names cost a few checks, blame nobody', async () => {
    const all = items(200);
    const bad = new Set(['app0042', 'app0150']);
    const c = checker(bad, { hints: 'wrong' });
    const r = await findCulprits(all, c.check, { name });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.culprits.map((x) => x.item.backend).sort()).toEqual(['app0042', 'app0150']);
    expect(c.calls()).toBeLessThanOrEqual(splittingBound(2, 200) + 3);
  });

  test('bad only in combination (two apps that clash): one of them is left out and the rest passes', async () => {
    const all = items(64);
    const c = checker(new Set(['app0005']), { pairs: [['app0010', 'app0050']] });
    const r = await findCulprits(all, c.check, { name });
    if (!r.ok) throw new Error(r.error.message);
    const out = r.value.culprits.map((x) => x.item.backend);
    expect(out).toContain('app0005');
    expect(out).toHaveLength(2);
    expect(out.includes('app0010') || out.includes('app0050')).toBe(true);
    expect(r.value.culprits.find((x) => x.item.backend !== 'app0005')?.alone).toBe(false);
    expect((await c.check(r.value.kept)).ok).toBe(true);
  });

  test('a config that fails without any app is a global problem', async () => {
    const r = await findCulprits(items(40), async () => err({ message: 'bad HAPROXY_HEAD' }), { name });
    expect(r).toEqual({ ok: false, error: { kind: 'global', message: 'bad HAPROXY_HEAD', checks: 1 } });
  });

  test('nothing to isolate when the config is valid: two checks', async () => {
    const all = items(40);
    const c = checker(new Set());
    expect(await findCulprits(all, c.check, { name })).toEqual({
      ok: true,
      value: { kept: all, culprits: [], checks: 2 },
    });
  });

  test('maxChecks bounds the search (trial reloads are expensive)', async () => {
    const c = checker(new Set(['app0001', 'app0002', 'app0003']));
    const r = await findCulprits(items(100), c.check, { name, maxChecks: 5 });
    expect(r).toMatchObject({ ok: false, error: { kind: 'budget', checks: 5 } });
    expect(c.calls()).toBe(5);
  });

  test('property: any bad subset of any size is found exactly, within the bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 300 })
          .chain((n) => fc.tuple(fc.constant(n), fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }))),
        async ([n, badIdx]) => {
          const all = items(n);
          const bad = new Set(badIdx.map((i) => all[i]!.backend));
          const c = checker(bad);
          const r = await findCulprits(all, c.check, { name });
          if (!r.ok) return false;
          return (
            r.value.kept.every((s) => !bad.has(s.backend)) &&
            r.value.culprits.length === bad.size &&
            r.value.culprits.every((x) => bad.has(x.item.backend)) &&
            c.calls() <= splittingBound(bad.size, n)
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test('property: with clashing pairs too, the kept set passes and nobody uninvolved is left out', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 120 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 6 }),
            fc.array(
              fc
                .tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 }))
                .filter(([a, b]) => a !== b),
              { maxLength: 4 },
            ),
          ),
        ),
        async ([n, badIdx, pairIdx]) => {
          const all = items(n);
          const bad = new Set(badIdx.map((i) => all[i]!.backend));
          const pairs = pairIdx.map(([a, b]) => [all[a]!.backend, all[b]!.backend] as const);
          const c = checker(bad, { pairs });
          const r = await findCulprits(all, c.check, { name });
          if (!r.ok) return false;
          const involved = new Set([...bad, ...pairs.flat()]);
          return (
            (await c.check(r.value.kept)).ok &&
            [...bad].every((b) => r.value.culprits.some((x) => x.item.backend === b)) &&
            r.value.culprits.every((x) => involved.has(x.item.backend))
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('proxiesNamed: whom HAProxy blames', () => {
  const config = [
    'global',
    '  maxconn 10',
    'frontend marathon_http_in',
    '  bind :80',
    '  use_backend web_10000 if host_web',
    'frontend web_10000',
    '  bind *:10000',
    'backend web_10000',
    '  this-is-not-haproxy on',
    'backend zzz_1',
    '',
  ].join('\n');
  test('a line number names its section, and the words of that line', () => {
    expect(
      proxiesNamed(
        "parsing [/x/haproxy.cfg.candidate:9] : unknown keyword 'this-is-not-haproxy' in 'backend' section",
        config,
      ),
    ).toContain('web_10000');
    expect(proxiesNamed('parsing [/x/haproxy.cfg:5] : error detected', config)).toEqual(
      expect.arrayContaining(['web_10000', 'marathon_http_in']),
    );
    expect(proxiesNamed('parsing [/x/haproxy.cfg:2] : bad maxconn', config)).toEqual(['maxconn', '10']);
  });
  test("a bind failure at startup names the frontend (HAProxy 2.6's wording)", () => {
    const msg =
      'HAProxy rejected the new config; the previous worker (12) keeps serving: Binding [/x/haproxy.cfg:7] for frontend web_10000: cannot bind socket (Address already in use) for [0.0.0.0:10000]';
    expect(proxiesNamed(msg, config).sort()).toEqual(['*:10000', 'bind', 'web_10000']); // "[0.0.0.0:10000]" is an address, not a line
    expect(linesNaming(`first\n${msg}\nlast`, 'web_10000')).toBe(msg);
  });
});

describe('rejectedAtGate: HAProxy refused to run a config that passes haproxy -c', () => {
  const svc = (b: string, port = 10000) => makeService(b, [makeServer(1)], { servicePort: port });
  const state = (services: Service[]): DesiredState => ({
    model: { services, problems: [] },
    rendered: {
      config: services.map((s) => `frontend ${s.backend}\n  bind *:${s.servicePort}`).join('\n'),
      domainMap: '',
      appMap: '',
      served: services,
      problems: [],
    },
  });
  const candidates = (fails: (s: readonly Service[]) => string | null) => {
    const runs: string[][] = [];
    const c: Candidates = {
      subset: (_asked, services) => state([...services]),
      check: async () => ok(undefined),
      run: async (st) => {
        runs.push(st.model.services.map((s) => s.backend));
        const why = fails(st.model.services);
        if (why !== null) throw new Error(`HAProxy reload failed: HAProxy rejected the new config; ${why}`);
      },
      configText: (st) => st.rendered.config,
      logger: { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined },
    };
    return { c, runs };
  };
  const previous = state([svc('a'), svc('b')]);
  const next = state([svc('a'), svc('b'), svc('hog', 10001), svc('c', 10002)]);

  test("the proxy HAProxy's alert names is left out, without a trial", async () => {
    const { c, runs } = candidates(() => null);
    const found = await rejectedAtGate(
      {
        refused: true,
        message:
          'HAProxy rejected the new config; the previous worker (7) keeps serving: Binding [/x/haproxy.cfg:6] for frontend hog: cannot bind socket (Address already in use) for [0.0.0.0:10001]',
      },
      next,
      previous,
      c,
      16,
    );
    expect(found?.trials).toBe(false);
    expect(found?.rejected.map((r) => r.service.backend)).toEqual(['hog']);
    expect(found?.rejected[0]?.problem.message).toMatch(
      /HAProxy cannot run backend hog .*Binding .*for frontend hog: cannot bind socket/,
    );
    expect(runs).toEqual([]);
  });
  test("HAProxy's own files or resources (a pid file it cannot create): nobody is blamed, no trial", async () => {
    const { c, runs } = candidates(() => 'Cannot create pidfile /run/ro/haproxy.pid');
    const message =
      'HAProxy could not run the new config for a reason outside it (its own files or resources); the previous worker (7) keeps serving: [ALERT] (9) : Cannot create pidfile /run/ro/haproxy.pid';
    expect(await rejectedAtGate({ refused: true, message }, next, previous, c, 16)).toBeNull();
    expect(runs).toEqual([]);
  });
  test('not a refusal (a timeout, a dead socket): nobody is blamed', async () => {
    const { c } = candidates(() => null);
    expect(
      await rejectedAtGate(
        { refused: false, message: 'health gate: the stats socket does not answer: timeout' },
        next,
        previous,
        c,
        16,
      ),
    ).toBeNull();
  });
  test('unnamed: trial runs among the changed services only, the unchanged ones always in', async () => {
    const { c, runs } = candidates((s) =>
      s.some((x) => x.backend === 'hog') ? 'Some protocols failed to start their listeners' : null,
    );
    const found = await rejectedAtGate(
      { refused: true, message: 'HAProxy rejected the new config; Some protocols failed to start their listeners' },
      next,
      previous,
      c,
      16,
    );
    expect(found).toMatchObject({ trials: true });
    expect(found?.rejected.map((r) => r.service.backend)).toEqual(['hog']);
    for (const run of runs) expect(run.slice(0, 2)).toEqual(['a', 'b']);
    expect(runs.at(-1)).toEqual(['a', 'b', 'c']);
    expect(runs.length).toBeLessThanOrEqual(4);
  });
  test('bounded: out of trials, nobody is blamed', async () => {
    const { c, runs } = candidates(() => 'always');
    expect(
      await rejectedAtGate(
        { refused: true, message: 'HAProxy exited at startup (exit code 1): something' },
        next,
        previous,
        c,
        3,
      ),
    ).toBeNull();
    expect(runs.length).toBeLessThanOrEqual(3);
  });
});

describe('rejectedByHang: haproxy -c did not finish', () => {
  const svc = (b: string, port = 10000) => makeService(b, [makeServer(1)], { servicePort: port });
  const state = (services: Service[]): DesiredState => ({
    model: { services, problems: [] },
    rendered: { config: '', domainMap: '', appMap: '', served: services, problems: [] },
  });
  const hang: Verdict = err({ message: 'haproxy -c -f x did not finish within 30000 ms', unchecked: true });
  /** `verdict` judges each checked set of backends, as `haproxy -c` of its config would. */
  const candidates = (verdict: (backends: readonly string[]) => Verdict) => {
    const checked: string[][] = [];
    const c: Candidates = {
      subset: (_asked, services) => state([...services]),
      check: async (st) => {
        const backends = st.model.services.map((s) => s.backend);
        checked.push(backends);
        return verdict(backends);
      },
      run: async () => undefined,
      configText: () => '',
      logger: { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined },
    };
    return { c, checked };
  };
  const previous = state([svc('a'), svc('b')]);
  const changedApps = ['c', 'fifo', 'd', 'e', 'f'];
  const next = state([svc('a'), svc('b'), ...changedApps.map((b, i) => svc(b, 10001 + i))]);

  test('the changed service it hangs on alone is left out, to be tried again later; the rest is checked', async () => {
    const { c, checked } = candidates((b) => (b.includes('fifo') ? hang : ok(undefined)));
    const found = await rejectedByHang(next, previous, c);
    expect(found.ok && found.value.map((r) => [r.service.backend, r.retried])).toEqual([['fifo', true]]);
    expect(found.ok && found.value[0]?.problem.message).toMatch(
      /^haproxy -c does not finish with backend fifo, left out: .*30000 ms/,
    );
    // The unchanged services are in every check, and the last check is the kept set, which passes.
    for (const b of checked) expect(b.slice(0, 2)).toEqual(['a', 'b']);
    expect(checked.at(-1)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(checked.length).toBeLessThanOrEqual(2 + 2 * 3 + 1);
  });

  test('a hang the machine has got over (the whole changed set now passes) blames nobody', async () => {
    const { c, checked } = candidates(() => ok(undefined));
    const found = await rejectedByHang(next, previous, c);
    expect(found).toEqual(ok([]));
    expect(checked).toEqual([
      ['a', 'b'],
      ['a', 'b', ...changedApps],
    ]);
  });

  test('one changed app is checked again before it is blamed; one HAProxy refuses outright is left out for good', async () => {
    const one = state([svc('a'), svc('b'), svc('fifo', 10001)]);
    const hangs = candidates((b) => (b.includes('fifo') ? hang : ok(undefined)));
    const found = await rejectedByHang(one, previous, hangs.c);
    expect(found.ok && found.value.map((r) => [r.service.backend, r.retried])).toEqual([['fifo', true]]);
    // The unchanged ones, the app again (it hangs again), and the kept set, which passes.
    expect(hangs.checked).toEqual([
      ['a', 'b'],
      ['a', 'b', 'fifo'],
      ['a', 'b'],
    ]);
    const refused = candidates((b) =>
      b.includes('d')
        ? err({ message: "unknown keyword 'bogus' in 'backend' section" })
        : b.includes('fifo')
          ? hang
          : ok(undefined),
    );
    const both = await rejectedByHang(next, previous, refused.c);
    expect(
      both.ok && both.value.map((r) => [r.service.backend, r.retried ?? false, r.problem.message.slice(0, 30)]),
    ).toEqual([
      ['fifo', true, 'haproxy -c does not finish wit'],
      ['d', false, 'HAProxy rejects the config of '],
    ]);
  });

  test('when it hangs only with several changes together (a slow machine), nobody is blamed', async () => {
    const { c } = candidates((b) => (b.length > 4 ? hang : ok(undefined)));
    const found = await rejectedByHang(next, previous, c);
    expect(found).toEqual(err(expect.stringMatching(/^no app is blamed \(no changed service makes it hang alone\)/)));
  });

  test('when the unchanged services alone do not pass either, nobody is blamed', async () => {
    const { c, checked } = candidates(() => hang);
    const found = await rejectedByHang(next, previous, c);
    expect(found).toEqual(err(expect.stringMatching(/^no app is blamed \(the config without the changed services/)));
    expect(checked).toEqual([['a', 'b']]);
  });

  test('nothing changed: nobody is blamed, without a check', async () => {
    const { c, checked } = candidates(() => ok(undefined));
    expect((await rejectedByHang(previous, previous, c)).ok).toBe(false);
    expect(checked).toEqual([]);
  });

  test('the first config (nothing applied before): the hanging one among all', async () => {
    const { c } = candidates((b) => (b.includes('fifo') ? hang : ok(undefined)));
    const found = await rejectedByHang(next, null, c);
    expect(found.ok && found.value.map((r) => r.service.backend)).toEqual(['fifo']);
  });

  test('bounded: at most 24 checks, however many hang', async () => {
    const many = state(Array.from({ length: 400 }, (_, i) => svc(`s${i}`, 10000 + i)));
    const { c, checked } = candidates((b) => (b.some((x) => Number(x.slice(1)) % 7 === 0) ? hang : ok(undefined)));
    const found = await rejectedByHang(many, null, c);
    expect(found).toEqual(err(expect.stringMatching(/none found in 24 checks/)));
    expect(checked.length).toBeLessThanOrEqual(24);
  });
});

describe('findCulprits with aloneOnly', () => {
  test('items failing only together are not searched for', async () => {
    const all = items(16);
    const c = checker(new Set(), { pairs: [['app0003', 'app0011']] });
    const r = await findCulprits(all, c.check, { name, aloneOnly: true });
    expect(r).toEqual(err({ kind: 'combination', message: 'app0003 and app0011 clash', checks: c.calls() }));
  });
  test('items failing alone are found as without it', async () => {
    const all = items(64);
    const c = checker(new Set(['app0005', 'app0040']));
    const r = await findCulprits(all, c.check, { name, aloneOnly: true });
    expect(r.ok && r.value.culprits.map((x) => x.item.backend)).toEqual(['app0005', 'app0040']);
  });
});
