import type { Problem, Service } from '../../src/model/types';
import type { RenderedConfig } from '../../src/render/render';
import { AppliedState } from '../../src/reconcile/appliedState';
import type { DesiredState } from '../../src/reconcile/applyPort';
import { plan } from '../../src/reconcile/plan';
import { configOutsideServers, configOutsideServersSteps } from '../../src/model/equality';
import { drain, finished } from '../../src/steps';
import fc from 'fast-check';
import { formatReason } from '../../src/reconcile/reloadReason';
import { DEFAULT_RENDER_OPTIONS, makeServer, makeService } from '../support/fixtures';

const server = makeServer;
const service = makeService;

describe('plan(lastApplied, next)', () => {
  test('first apply is a reload with a reason', () => {
    expect(plan(null, [service('a', [server(1)])])).toEqual({ runtimeOps: [], reloadReasons: [{ kind: 'initial' }] });
  });
  test('unchanged → nothing to do', () => {
    const s = [service('a', [server(1)])];
    expect(plan(s, s)).toEqual({ runtimeOps: [], reloadReasons: [] });
  });
  test('task churn in an unchanged backend → runtime ops only', () => {
    const p = plan([service('a', [server(1), server(2)])], [service('a', [server(2), server(3)])]);
    expect(p.reloadReasons).toEqual([]);
    expect(p.runtimeOps.map((o) => `${o.kind} ${o.server.name}`)).toEqual([
      'add-server 10_0_0_3_31000',
      'remove-server 10_0_0_1_31000',
    ]);
  });
  test('blue/green drain flips are runtime ops', () => {
    const p = plan([service('a', [server(1)])], [service('a', [server(1, { draining: true })])]);
    expect(p.runtimeOps).toEqual([
      { kind: 'set-draining', backend: 'a', server: server(1, { draining: true }), draining: true },
    ]);
  });
  test('servers join rotation before others leave it: a blue/green switch never leaves the backend without one', () => {
    const p = plan(
      [service('a', [server(1), server(2, { draining: true })])],
      [service('a', [server(1, { draining: true }), server(2), server(3)])],
    );
    expect(
      p.runtimeOps.map((o) => `${o.kind} ${o.server.name}${o.kind === 'set-draining' ? ` ${o.draining}` : ''}`),
    ).toEqual(['set-draining 10_0_0_2_31000 false', 'add-server 10_0_0_3_31000', 'set-draining 10_0_0_1_31000 true']);
  });
  test('new backend, removed backend and changed settings are named reload reasons', () => {
    const p = plan(
      [service('a', [server(1)]), service('b', [server(1)])],
      [service('a', [server(1)], { balance: 'leastconn' }), service('c', [server(1)])],
    );
    expect(p.runtimeOps).toEqual([]);
    expect(p.reloadReasons.map(formatReason)).toEqual([
      'backend c added',
      'backend b removed',
      'backend a settings changed (balance)',
    ]);
  });
  // A scale of 10 000 tasks in a backend of 20 000 took 22 s through the runtime API, where a reload took 1 s.
  test('many server changes in a big backend → a reload; as many in small backends → runtime ops', () => {
    const servers = (from: number, n: number): ReturnType<typeof server>[] =>
      Array.from({ length: n }, (_, i) => server(from + i, { name: `s${from + i}` }));
    const big = plan([service('big', servers(0, 30000))], [service('big', servers(0, 30200))]);
    expect(big.runtimeOps).toEqual([]);
    expect(big.reloadReasons.map(formatReason)).toEqual([
      '200 server changes (the largest backend: big): a reload applies them sooner than the runtime API',
    ]);
    const before = Array.from({ length: 200 }, (_, i) => service(`b${i}`, servers(0, 3)));
    const after = Array.from({ length: 200 }, (_, i) => service(`b${i}`, servers(0, 5)));
    const small = plan(before, after);
    expect(small.reloadReasons).toEqual([]);
    expect(small.runtimeOps).toHaveLength(400);
    const manySmall = plan(
      before,
      Array.from({ length: 200 }, (_, i) => service(`b${i}`, servers(0, 20))),
    );
    expect(manySmall.reloadReasons.map((r) => r.kind)).toEqual(['many-server-changes']);
  });
  test('static-rr backends refuse dynamic servers → reload', () => {
    const p = plan(
      [service('a', [server(1)], { balance: 'static-rr' })],
      [service('a', [server(1), server(2)], { balance: 'static-rr' })],
    );
    expect(p.reloadReasons.map(formatReason)).toEqual([
      'backend a uses static-rr, which refuses runtime server changes',
    ]);
  });
  test('hashing backends refuse dynamic servers on a map (their default) → reload; with hash-type consistent (own or defaults) → runtime', () => {
    const scaled = (balance: string, configs?: { previous: string; next: string }) =>
      plan([service('a', [server(1)], { balance })], [service('a', [server(1), server(2)], { balance })], configs);
    const config = (own: string, defaults: string): { previous: string; next: string } => {
      const text = `defaults\n  mode http\n${defaults}frontend f\n  bind :80\nbackend a\n  balance source\n${own}  server x 1.2.3.4:80\n`;
      return { previous: text, next: text };
    };
    expect(scaled('source').reloadReasons.map(formatReason)).toEqual([
      'backend a balances by source on a map (no hash-type consistent), which refuses runtime server changes',
    ]);
    for (const b of ['uri whole', 'url_param id', 'hdr(Host)', 'rdp-cookie'])
      expect(scaled(b).reloadReasons.map((r) => r.kind)).toEqual(['map-based-hash']);
    expect(scaled('source', config('', '')).reloadReasons.map((r) => r.kind)).toEqual(['map-based-hash']);
    expect(scaled('source', config('  hash-type map-based\n', '  hash-type consistent\n')).reloadReasons).toHaveLength(
      1,
    );
    expect(scaled('source', config('  hash-type consistent\n', '')).reloadReasons).toEqual([]);
    expect(scaled('source', config('', '  hash-type consistent sdbm\n')).runtimeOps).toHaveLength(1);
    for (const b of ['roundrobin', 'leastconn', 'first', 'random(2)'])
      expect(scaled(b).runtimeOps.map((o) => o.kind)).toEqual(['add-server']);
  });
  test('a server whose id changed needs a reload', () => {
    const p = plan([service('a', [server(1)])], [service('a', [server(1, { id: 7 })])]);
    expect(p.reloadReasons.map(formatReason)).toEqual(['backend a server 10_0_0_1_31000 changed its definition']);
  });
});

describe('plan with the rendered configs', () => {
  const cfg = (servers: string[], extra = '') =>
    `backend a\n  balance roundrobin${extra}\n${servers.map((s) => `  server ${s} 10.0.0.1:1`).join('\n')}\n`;
  test('a first-server change that templates do not print stays a runtime change', () => {
    const before = service('a', [server(2)], { backendCheckPort: 31002 });
    const after = service('a', [server(1), server(2)], { backendCheckPort: 31001 });
    const p = plan([before], [after], { previous: cfg(['s2']), next: cfg(['s1', 's2']) });
    expect(p.reloadReasons).toEqual([]);
    expect(p.runtimeOps).toHaveLength(1);
  });
  test('anything else changed in the text (e.g. a global template) is a named reload reason', () => {
    const s = [service('a', [server(1)])];
    const p = plan(s, s, { previous: cfg(['s1']), next: cfg(['s1'], '\n  timeout server 60s') });
    expect(p.reloadReasons.map(formatReason)).toEqual(['config changed outside server lines (templates or options)']);
  });
  test('the config outside server lines is what a line-by-line filter leaves (any text after a first line)', () => {
    const byLines = (config: string): string =>
      config
        .split('\n')
        .filter((line) => !/^\s+server\s/.test(line))
        .join('\n');
    const piece = fc.constantFrom('\n', ' ', '\t', '\r', 'server', 'servers', 'x', '#', 'backend b');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const config = `global${pieces.join('')}`;
        expect(configOutsideServers(config)).toBe(byLines(config));
        expect(drain(configOutsideServersSteps(config))).toBe(byLines(config));
      }),
      { numRuns: 2000 },
    );
  });
  test('in steps, the same text as at once: configs of thousands of server lines, cut between steps', () => {
    const line = fc.oneof(
      fc.constant('  server s 10.0.0.1:80'),
      fc.constant('backend b'),
      fc.constant('  option x'),
      fc.constant(' \tserver\ts2 ::1:1 check'),
      fc.constant(''),
    );
    fc.assert(
      fc.property(fc.array(line, { minLength: 12_000, maxLength: 20_000 }), (lines) => {
        const config = lines.join('\n');
        expect(drain(configOutsideServersSteps(config))).toBe(configOutsideServers(config));
      }),
      { numRuns: 20, endOnFailure: true },
    );
  });
});

import { ServerMemo } from '../../src/model/serverIds';
import { toModel } from '../../src/model/services';
import type { MarathonApp } from '../../src/marathon/types';
import { generateApps } from '../../bench/genApps';

describe('servers reused across snapshots', () => {
  test('a model built with the memo equals one built from scratch, before and after tasks change', () => {
    const opts = { groups: ['*'], strictMode: false, healthCheck: false, servicePortRange: { min: 10050, max: 10100 } };
    const first = generateApps({ apps: 200, tasksPerApp: 3, seed: 7 }).apps as MarathonApp[];
    // The next snapshot: one app scaled down, one task moved to another port.
    const second = first.map((a, i) =>
      i === 3
        ? { ...a, tasks: a.tasks.slice(1) }
        : i === 5
          ? { ...a, tasks: a.tasks.map((t, k) => (k === 0 ? { ...t, ports: [40000] } : t)) }
          : a,
    );
    const memo = new ServerMemo();
    for (const apps of [first, second, first]) {
      const withMemo = toModel(apps, opts, { resolve: (h) => h, servers: memo });
      const scratch = toModel(apps, opts, { resolve: (h) => h });
      expect(withMemo.services).toEqual(scratch.services);
    }
  });
});

import { loadTemplateSet } from '../../src/render/loadTemplates';
import { renderConfig, RenderCache } from '../../src/render/render';
import { REPO_ROOT } from '../support/paths';
import * as nodePath from 'node:path';

describe('server lines reused across snapshots', () => {
  test('configs rendered with the caches equal configs rendered from scratch, also when a template label changes', () => {
    const loaded = loadTemplateSet(nodePath.join(REPO_ROOT, 'config'), {}, '/nonexistent');
    if (!loaded.ok) throw new Error(loaded.error);
    const templates = loaded.value;
    const ropts = DEFAULT_RENDER_OPTIONS;
    const opts = { groups: ['*'], strictMode: false, healthCheck: false, servicePortRange: null };
    const base = generateApps({ apps: 120, tasksPerApp: 3, seed: 11 }).apps as MarathonApp[];
    const relabelled = base.map((a, i) =>
      i === 2
        ? {
            ...a,
            labels: {
              ...a.labels,
              HAPROXY_0_BACKEND_SERVER_OPTIONS: '  server {serverName} {host_ipv4}:{port} weight 7\n',
            },
          }
        : a,
    );
    const memo = new ServerMemo();
    const lines = new RenderCache();
    for (const apps of [base, relabelled, base, base]) {
      const cached = renderConfig(
        toModel(apps, opts, { resolve: (h) => h, servers: memo }).services,
        templates,
        ropts,
        lines,
      ).config;
      const scratch = renderConfig(toModel(apps, opts, { resolve: (h) => h }).services, templates, ropts).config;
      expect(cached).toBe(scratch);
      expect(cached.includes('weight 7')).toBe(apps === relabelled);
    }
  });
});

describe('AppliedState remembers the apps HAProxy rejected, so plan() sees real changes only', () => {
  const render = (services: readonly Service[]): RenderedConfig => ({
    config: services
      .map((s) => `backend ${s.backend}\n${s.servers.map((v) => `  server ${v.name}`).join('\n')}`)
      .join('\n'),
    domainMap: '',
    appMap: '',
    served: services,
    problems: [],
  });
  const state = (services: Service[]): DesiredState => ({
    model: { services, problems: [] },
    rendered: render(services),
  });
  const bad = service('bad', [server(9)], { templateLabels: { BACKEND_HEAD: 'nonsense' } });
  const problem: Problem = {
    appId: '/bad',
    portIndex: null,
    label: null,
    message: 'HAProxy rejects the config of backend bad',
  };
  const setup = (): AppliedState => {
    const applied = new AppliedState((services) => finished(render(services)));
    applied.commit(state([service('a', [server(1)])]), 0, [{ service: bad, problem }]);
    return applied;
  };

  test('task churn of another app after one was left out: runtime ops, no "backend bad added"', () => {
    const applied = setup();
    const next = applied.withoutRejected(state([service('a', [server(1), server(2)]), bad]));
    expect(next.model.services.map((s) => s.backend)).toEqual(['a']);
    expect(next.model.problems).toEqual([problem]); // still named on every snapshot
    const p = plan(applied.current!.model.services, next.model.services, {
      previous: applied.current!.rendered.config,
      next: next.rendered.config,
    });
    expect(p).toEqual({ runtimeOps: [{ kind: 'add-server', backend: 'a', server: server(2) }], reloadReasons: [] });
  });
  test('nothing changed but the rejected app is still there: the state is current (no apply at all)', () => {
    const applied = setup();
    expect(applied.isCurrent(applied.withoutRejected(state([service('a', [server(1)]), bad])))).toBe(true);
  });
  test('its tasks changing is no new definition: still left out', () => {
    const applied = setup();
    const next = applied.withoutRejected(state([service('a', [server(1)]), { ...bad, servers: [server(10)] }]));
    expect(next.model.services.map((s) => s.backend)).toEqual(['a']);
  });
  test('a changed definition is tried again, once: kept in, and forgotten', () => {
    const applied = setup();
    const fixed = { ...bad, templateLabels: {} };
    const next = applied.withoutRejected(state([service('a', [server(1)]), fixed]));
    expect(next.model.services.map((s) => s.backend)).toEqual(['a', 'bad']);
    expect(plan(applied.current!.model.services, next.model.services).reloadReasons).toEqual([
      { kind: 'backend-added', backend: 'bad' },
    ]);
    expect(applied.rejectedBackends).toEqual([]);
  });
  test('a state already left without the rejected is taken as it is, until a rejection changes', () => {
    let renders = 0;
    const applied = new AppliedState((services) => {
      renders++;
      return finished(render(services));
    });
    applied.commit(state([service('a', [server(1)])]), 0, [{ service: bad, problem }]);
    const asked = state([service('a', [server(1), server(2)]), bad]);
    const left = drain(applied.withoutRejectedSteps(asked));
    expect(left.model.services.map((s) => s.backend)).toEqual(['a']);
    expect(renders).toBe(1);
    // The apply's own call (after the pipeline's, in slices): the same state, no second render.
    expect(applied.withoutRejected(left)).toBe(left);
    expect(renders).toBe(1);
    // A commit in between changes what is rejected: worked out again from the state it came from, in
    // which `bad` is still present (its rejection is not forgotten as if its app were gone).
    applied.commit(state([service('a', [server(1)])]), 1, [{ service: bad, problem }]);
    const again = applied.withoutRejected(left);
    expect(again.model.services.map((s) => s.backend)).toEqual(['a']);
    expect(renders).toBe(2);
    expect(applied.rejectedBackends).toEqual(['bad']);
  });
  test('a service let through for its retry stays let through when the same state is asked again (the step after the pipeline)', () => {
    const applied = new AppliedState((services) => finished(render(services)));
    const held = service('held', [server(3)]);
    applied.commit(state([service('a', [server(1)])]), 0, [{ service: held, problem, retried: true }]);
    const asked = state([service('a', [server(1)]), held]);
    const first = drain(applied.withoutRejectedSteps(asked, 30_000));
    expect(first.model.services.map((s) => s.backend)).toEqual(['a', 'held']);
    expect(applied.withoutRejected(first, 30_001)).toBe(first);
  });
  test('a retry due while its port is still held is not tried, and put off as if it had failed', () => {
    const applied = new AppliedState((services) => finished(render(services)));
    const held = service('held', [server(3)]);
    applied.commit(state([service('a', [server(1)])]), 0, [{ service: held, problem, retried: true }]);
    const asked = (): DesiredState => state([service('a', [server(1)]), held]);
    expect(applied.dueRetries(asked(), 29_999)).toEqual([]);
    expect(applied.dueRetries(asked(), 30_000)).toEqual([held]);
    const kept = drain(applied.withoutRejectedSteps(asked(), 30_000, new Set(['held'])));
    expect(kept.model.services.map((s) => s.backend)).toEqual(['a']);
    expect(kept.model.problems).toEqual([problem]);
    // Its next try: 60 s on, as after a second rejection; the port let go by then, it is tried.
    expect(applied.dueRetries(asked(), 89_999)).toEqual([]);
    const tried = drain(applied.withoutRejectedSteps(asked(), 90_000));
    expect(tried.model.services.map((s) => s.backend)).toEqual(['a', 'held']);
  });
  test('an app that left the model is forgotten', () => {
    const applied = setup();
    applied.withoutRejected(state([service('a', [server(1)])]));
    expect(applied.rejectedBackends).toEqual([]);
  });
  test('one haproxy -c refused is never tried again with the same definition, however late', () => {
    const applied = setup();
    const next = applied.withoutRejected(state([service('a', [server(1)]), bad]), 24 * 3600_000);
    expect(next.model.services.map((s) => s.backend)).toEqual(['a']);
  });
  test('one HAProxy could not run though haproxy -c passed it (its port held) is tried again: 30 s, doubling, up to 15 min; served, forgotten', () => {
    const applied = new AppliedState((services) => finished(render(services)));
    const held = service('held', [server(3)]);
    const rejection = { service: held, problem, retried: true } as const;
    const both = (): DesiredState => state([service('a', [server(1)]), held]);
    const backends = (at: number): string[] => applied.withoutRejected(both(), at).model.services.map((s) => s.backend);
    const served = (): DesiredState => state([service('a', [server(1)])]);
    applied.commit(served(), 0, [rejection]);
    expect(backends(29_999)).toEqual(['a']);
    expect(backends(30_000)).toEqual(['a', 'held']); // tried again
    // The apply failed whole (no rejection came back): its retry, and later snapshots, leave it out.
    expect(backends(30_001)).toEqual(['a']);
    applied.commit(served(), 40_000, [rejection]); // rejected again: the wait doubles
    expect(backends(99_999)).toEqual(['a']);
    expect(backends(100_000)).toEqual(['a', 'held']);
    let at = 100_000;
    for (let i = 0; i < 8; i++) {
      applied.commit(served(), at, [rejection]);
      at += 15 * 60_000;
      backends(at);
    }
    applied.commit(served(), at, [rejection]);
    expect(backends(at + 15 * 60_000 - 1)).toEqual(['a']); // at most 15 min
    expect(backends(at + 15 * 60_000)).toEqual(['a', 'held']);
    // A fast-path state never brings it back (it holds only what HAProxy runs).
    expect(
      applied.withoutRejected({ ...both(), source: { apps: [], hosts: new Map(), fast: true } }, 10 ** 12).model
        .services,
    ).toHaveLength(1);
    applied.commit(both(), 20 * 60_000);
    expect(applied.rejectedBackends).toEqual([]);
  });
});
