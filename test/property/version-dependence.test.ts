/**
 * `--dry` renders for HAProxy 2.1+ and asks the installed HAProxy its version only when the render
 * says the config depends on it (render.ts VersionDependence, dry.ts). That is sound only if every
 * render that does not say so prints the same for 2.0 as for 2.6: checked here over generated
 * payloads (hostile strings, wrong types, any flag mix) with labels that carry directives 2.1
 * removed, ones that cannot be translated, and modern ones.
 */
import { isIP } from 'node:net';
import fc from 'fast-check';
import { parseArgs } from '../../src/cli/args';
import { describeProblem } from '../../src/model/types';
import { renderSnapshot } from '../../src/render/snapshot';
import { modelOptions, renderOptions } from '../../src/wiring/parts';
import { caseArbitrary, flagArgs, type Case } from './appsArbitrary';
import { templates } from './configChecks';

const SEED = Number(process.env.MLB_PROPERTY_SEED ?? 20261203);

const resolve = (h: string): string | undefined => (isIP(h) === 4 ? h : h === 'agent-1' ? '10.0.0.9' : undefined);
const t = templates();

/** Per-app template labels: directives 2.1 removed (translatable or not), modern ones, placeholders. */
const TEMPLATE_LABEL = fc.record({
  name: fc.constantFrom('BACKEND_HTTP_OPTIONS', 'BACKEND_HEAD', 'FRONTEND_HEAD', 'BACKEND_HSTS_OPTIONS'),
  text: fc.constantFrom(
    '  reqadd X-Via:\\ lb\n',
    '  rspdel ^Server:\n',
    '  reqdeny \\.exe\n',
    '  reqirep ^Host:\\ a Host:\\ b\n',
    '  block if { src 10.0.0.0/8 }\n',
    '  http-request set-header X-Via lb\n',
    '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  rspadd X-Backend:\\ {backend}\n',
    '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n',
    '\nfrontend {backend}\n  bind {bindAddr}:{servicePort}\n  mode {mode}\n  use_backend {backend}\n',
  ),
});

function withLabels(body: unknown, labels: readonly ({ name: string; text: string } | null)[]): unknown {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { apps?: unknown }).apps)) return body;
  const apps = (body as { apps: unknown[] }).apps.map((a, i) => {
    const l = labels[i % Math.max(1, labels.length)] ?? null;
    if (l === null || typeof a !== 'object' || a === null) return a;
    const app = a as Record<string, unknown>;
    const own = typeof app['labels'] === 'object' && app['labels'] !== null ? app['labels'] : {};
    return { ...app, labels: { ...own, [`HAPROXY_0_${l.name}`]: l.text } };
  });
  return { apps };
}

function render(body: unknown, c: Case, version: string, dependsOnVersion?: () => void): unknown {
  const args = ['--dry', '--group', 'external', '--haproxy-config', '/dir/haproxy.cfg', '--haproxy-version', version];
  args.push(...flagArgs(c.flags));
  const parsed = parseArgs(args, {});
  if (!parsed.ok) throw new Error(`bad flags ${args.join(' ')}`);
  const o = parsed.value;
  const s = renderSnapshot(
    body,
    t,
    { model: modelOptions(o, {}), render: renderOptions(o, {}) },
    { resolve, dependsOnVersion },
  );
  if (!s.ok) return { error: s.error };
  const { config, domainMap, appMap } = s.value.rendered;
  return { config, domainMap, appMap, problems: s.value.problems.map(describeProblem) };
}

describe('the version a --dry config depends on', () => {
  it('a render that does not say it depends on the version prints the same for HAProxy 2.0 and 2.6', () => {
    let told = 0;
    let untold = 0;
    fc.assert(
      fc.property(
        caseArbitrary,
        fc.array(fc.option(TEMPLATE_LABEL, { freq: 4 }), { minLength: 1, maxLength: 4 }),
        (c, labels) => {
          const body = withLabels(c.body, labels);
          let depends = false;
          const modern = render(body, c, '2.6', () => (depends = true));
          if (depends) {
            told++;
            return;
          }
          untold++;
          expect(render(body, c, '2.0')).toEqual(modern);
        },
      ),
      { seed: SEED, numRuns: 1200 },
    );
    // Both kinds were generated, so the property says something either way (about 5% are told: the
    // bound holds for any seed, MLB_PROPERTY_SEED).
    expect(told).toBeGreaterThan(20);
    expect(untold).toBeGreaterThan(100);
  });

  it('a config that does depend on it says so: 2.0 and 2.6 print differently', () => {
    let depends = false;
    const c = fc.sample(caseArbitrary, { seed: SEED, numRuns: 1 })[0]!;
    const body = {
      apps: [
        {
          id: '/hsts',
          labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'h.example.com', HAPROXY_0_USE_HSTS: 'true' },
          portDefinitions: [{ port: 10001 }],
          tasks: [{ id: 'h.1', host: '10.0.0.1', ports: [31001], state: 'TASK_RUNNING' }],
        },
      ],
    };
    const plain = { ...c, flags: { ...c.flags, strictMode: false, dontBindHttpHttps: false } };
    const modern = render(body, plain, '2.6', () => (depends = true));
    expect(depends).toBe(true);
    expect(render(body, plain, '2.0')).not.toEqual(modern);
  });
});
