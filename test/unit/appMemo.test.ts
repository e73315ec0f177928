/**
 * The per-app memo (src/model/appKey.ts, ServerMemo) and the render caches (RenderCache) must
 * never change the output: a sequence of changed snapshots rendered through warm caches gives, at
 * every step, exactly what a from-scratch render of that snapshot gives. Bodies are freshly parsed
 * at every step, as a live controller sees them.
 */
import fc from 'fast-check';
import type { ModelOptions } from '../../src/model/services';
import { ServerMemo } from '../../src/model/serverIds';
import { RenderCache, type RenderOptions } from '../../src/render/render';
import { renderSnapshot, type Snapshot } from '../../src/render/snapshot';
import { generateApps } from '../../bench/genApps';
import { caseArbitrary, type Flags } from '../property/appsArbitrary';
import { prepare, templates } from '../property/configChecks';

const t = templates();

function options(f: Flags): { model: ModelOptions; render: RenderOptions } {
  return {
    model: {
      groups: ['external'],
      strictMode: f.strictMode,
      healthCheck: f.healthCheck,
      servicePortRange: { min: 10050, max: 10100 },
      refuseAppTemplates: f.refuseAppTemplates,
      operatorCerts: ['/etc/ssl/cert.pem'],
    },
    render: {
      bindHttpHttps: !f.dontBindHttpHttps,
      sslCerts: ['/etc/ssl/cert.pem'],
      haproxyMap: f.haproxyMap,
      groupHttpsByVhost: f.groupHttpsByVhost,
      haproxyDir: '/dir',
      globalDefaultOptions: 'redispatch,http-server-close,dontlognull',
      luaDir: '/marathon-lb',
      translateLegacy: true,
    },
  };
}

/** What a snapshot says, in plain data. */
function outcome(s: Snapshot): unknown {
  if (!s.ok) return s;
  return {
    config: s.value.rendered.config,
    domainMap: s.value.rendered.domainMap,
    appMap: s.value.rendered.appMap,
    problems: s.value.problems,
    services: s.value.model.services,
    observed: [...s.value.observedHealth],
  };
}

/**
 * A small change of an app: its first task moves or drains, its health check moves to another port,
 * or a label changes; anything not an object is kept. Draining and the check port are what the
 * remembered servers of an unchanged backend are compared on besides host, address and port.
 */
function mutate(body: unknown, step: number): unknown {
  const b = JSON.parse(JSON.stringify(body ?? null)) as unknown;
  const apps = (b as { apps?: unknown } | null)?.apps;
  if (!Array.isArray(apps)) return b;
  for (const a of apps as Record<string, unknown>[]) {
    if (typeof a !== 'object' || a === null) continue;
    const tasks = a['tasks'];
    const first =
      Array.isArray(tasks) && typeof tasks[0] === 'object' && tasks[0] !== null
        ? (tasks[0] as Record<string, unknown>)
        : null;
    const checks = a['healthChecks'];
    const check =
      Array.isArray(checks) && typeof checks[0] === 'object' && checks[0] !== null
        ? (checks[0] as Record<string, unknown>)
        : null;
    if (first !== null && step % 6 === 0) first['host'] = '10.0.0.3';
    else if (first !== null && step % 6 === 1) first['ports'] = [31009];
    else if (first !== null && step % 6 === 2) first['ipAddresses'] = [{ ipAddress: '10.1.1.9' }];
    else if (first !== null && step % 6 === 3) first['draining'] = true;
    else if (check !== null && step % 6 === 4) check['port'] = 31999;
    else if (typeof a['labels'] === 'object' && a['labels'] !== null)
      (a['labels'] as Record<string, unknown>)['HAPROXY_0_BALANCE'] = 'leastconn';
  }
  return b;
}

function runSequence(f: Flags, bodies: readonly unknown[]): void {
  const opts = options(f);
  const servers = new ServerMemo();
  const renderCache = new RenderCache();
  const remembered = new Map<string, boolean>();
  bodies.forEach((body, step) => {
    // agent-1 moves between snapshots: a resolved address is an input of the app as well.
    const agent = step % 3 === 0 ? '10.0.0.9' : '10.0.0.8';
    const resolve = (h: string): string | undefined =>
      /^\d+\.\d+\.\d+\.\d+$/.test(h) ? h : h === 'agent-1' ? agent : undefined;
    const fresh = (): unknown => JSON.parse(JSON.stringify(body)) as unknown;
    const health = new Map(remembered);
    const warm = renderSnapshot(fresh(), t, opts, { resolve, rememberedHealth: health, servers, renderCache });
    const cold = renderSnapshot(fresh(), t, opts, { resolve, rememberedHealth: health });
    expect(outcome(warm)).toEqual(outcome(cold));
    if (warm.ok) for (const [id, alive] of warm.value.observedHealth) remembered.set(id, alive);
  });
}

describe('warm caches render exactly what a from-scratch render does', () => {
  test('random apps coming, changing, going and coming back (property)', () => {
    const slot = fc.tuple(caseArbitrary, caseArbitrary).map(([a, b]) => [a.body, b.body]);
    fc.assert(
      fc.property(
        caseArbitrary,
        fc.array(slot, { minLength: 2, maxLength: 4 }),
        fc.array(fc.array(fc.nat(4), { minLength: 4, maxLength: 4 }), { minLength: 3, maxLength: 7 }),
        (c, slots, picks) => {
          // Snapshot = for each slot, one of its versions (two bodies, each mutated, or absent), ids prefixed by the slot.
          const bodies = picks.map((pick, step) => {
            const apps: unknown[] = [];
            slots.forEach((versions, k) => {
              const p = pick[k] ?? 0;
              if (p === 4) return;
              const version = p < 2 ? versions[p] : mutate(versions[p - 2], step);
              const b = prepare(version, k, '/etc/ssl/cert.pem') as { apps?: unknown };
              if (Array.isArray(b?.apps)) apps.push(...(b.apps as unknown[]));
            });
            return { apps };
          });
          runSequence(c.flags, bodies);
        },
      ),
      { numRuns: 150, seed: 12 },
    );
  });

  test('a generated cluster: tasks moved, apps scaled, relabelled, removed and added back', () => {
    const base = generateApps({ apps: 300, tasksPerApp: 3, seed: 5 }).apps as Record<string, unknown>[];
    const scaled = base.map((a, i) => (i % 17 === 0 ? { ...a, tasks: (a['tasks'] as unknown[]).slice(1) } : a));
    const moved = base.map((a, i) =>
      i % 13 === 0
        ? { ...a, tasks: (a['tasks'] as Record<string, unknown>[]).map((x) => ({ ...x, host: '10.9.9.9' })) }
        : a,
    );
    const relabelled = base.map((a, i) =>
      i % 11 === 0 ? { ...a, labels: { ...(a['labels'] as object), HAPROXY_0_STICKY: 'true' } } : a,
    );
    const fewer = base.filter((_, i) => i % 7 !== 0);
    for (const f of [
      { haproxyMap: false, groupHttpsByVhost: false },
      { haproxyMap: true, groupHttpsByVhost: true },
    ]) {
      const flags: Flags = {
        ...f,
        dontBindHttpHttps: false,
        healthCheck: true,
        strictMode: false,
        refuseAppTemplates: false,
      };
      runSequence(
        flags,
        [base, scaled, moved, base, relabelled, fewer, base, base].map((apps) => ({ apps })),
      );
    }
  });
});
