/**
 * `--dry` keeps only what routing reads of each app (src/marathon/routedFields.ts) and reads apps
 * files a piece at a time (src/marathon/appsFile.ts). Both must be invisible:
 * - over generated payloads (hostile strings, wrong types, nulls, any flag mix, readiness), the
 *   cut-down body renders to the same config, maps and problems as the whole body;
 * - over random files (any layout, other shapes, corrupt bytes) and any piece size, the file reader
 *   gives JSON.parse of the whole text with its apps cut down, or the very error JSON.parse gives.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { parseArgs } from '../../src/cli/args';
import { cannotRead, parseAppsBytes, parseAppsText, readAppsFile } from '../../src/marathon/appsFile';
import { routedApp, routedBody } from '../../src/marathon/routedFields';
import { describeProblem } from '../../src/model/types';
import { renderSnapshot } from '../../src/render/snapshot';
import { modelOptions, renderOptions } from '../../src/wiring/parts';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';
import { caseArbitrary, flagArgs, type Case } from './appsArbitrary';
import { corruptBody } from './corruptBody';
import { templates } from './configChecks';

const SEED = Number(process.env.MLB_PROPERTY_SEED ?? 20261202);

const resolve = (h: string): string | undefined => (isIP(h) === 4 ? h : h === 'agent-1' ? '10.0.0.9' : undefined);
const t = templates();

function render(body: unknown, c: Case, readiness: boolean): unknown {
  const args = ['--dry', '--group', 'external', '--haproxy-config', '/dir/haproxy.cfg', '--haproxy-version', '2.6'];
  args.push(...flagArgs(c.flags), ...(readiness ? ['--respect-readiness-checks'] : []));
  const parsed = parseArgs(args, {});
  if (!parsed.ok) throw new Error(`bad flags ${args.join(' ')}`);
  const o = parsed.value;
  const s = renderSnapshot(body, t, { model: modelOptions(o, {}), render: renderOptions(o, {}) }, { resolve });
  if (!s.ok) return { error: s.error };
  const { config, domainMap, appMap } = s.value.rendered;
  return { config, domainMap, appMap, problems: s.value.problems.map(describeProblem) };
}

/** Readiness as Marathon reports it during a deployment, on some apps of a generated body. */
function withReadiness(body: unknown, seed: number): unknown {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { apps?: unknown }).apps)) return body;
  const apps = (body as { apps: unknown[] }).apps.map((a, i) => {
    if (typeof a !== 'object' || a === null || (seed + i) % 2 === 0) return a;
    const app = a as Record<string, unknown>;
    const tasks = Array.isArray(app['tasks']) ? (app['tasks'] as unknown[]) : [];
    const taskId = (k: number): unknown => (tasks[k] as { id?: unknown } | undefined)?.id;
    return {
      ...app,
      version: '2026-12-02T10:00:00.000Z',
      deployments: [{ id: 'd1' }],
      readinessChecks: [{ name: 'ready', path: '/ready' }],
      readinessCheckResults: [
        { taskId: taskId(0), ready: true, lastResponse: { status: 200, body: 'x'.repeat(50) } },
        { taskId: taskId(1), ready: false },
      ],
      tasks: tasks.map((task, k) =>
        typeof task === 'object' && task !== null && k === 2 ? { ...task, version: '2026-12-02T10:00:00.000Z' } : task,
      ),
    };
  });
  return { apps };
}

describe('routed fields', () => {
  it('a body cut down to what routing reads renders as the whole body (any flags, readiness too)', () => {
    fc.assert(
      fc.property(caseArbitrary, fc.boolean(), fc.nat(), (c, readiness, seed) => {
        const body = readiness ? withReadiness(c.body, seed) : c.body;
        expect(render(routedBody(body), c, readiness)).toEqual(render(body, c, readiness));
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('keeps the scaling time that orders a blue/green pair (the generated apps have no groups)', () => {
    const color = (id: string, scaledAt: string, hosts: string[]): Record<string, unknown> => ({
      id,
      instances: hosts.length,
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_DEPLOYMENT_GROUP: 'bg',
        HAPROXY_DEPLOYMENT_ALT_PORT: '10001',
        HAPROXY_DEPLOYMENT_STARTED_AT: '2026-12-01T00:00:00Z',
        HAPROXY_DEPLOYMENT_NEW_INSTANCES: '1',
        HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '2',
        HAPROXY_0_PORT: '10000',
        HAPROXY_0_ENABLED: 'true', // served under any generated flags, --strict-mode too
      },
      portDefinitions: [{ port: 10000 }],
      versionInfo: { lastScalingAt: scaledAt, lastConfigChangeAt: scaledAt },
      tasks: hosts.map((host, k) => ({ id: `${id}.${k}`, host, ports: [31000 + k], slaveId: 'agent' })),
    });
    const c = fc.sample(caseArbitrary, { seed: SEED, numRuns: 1 })[0]!;
    const body = (blueScaledAt: string): unknown => ({
      apps: [
        color('/bg-blue', blueScaledAt, ['10.0.0.1', '10.0.0.2']),
        color('/bg-green', '2026-12-01T12:00:00Z', ['10.0.0.3']),
      ],
    });
    const before = body('2026-12-01T06:00:00Z');
    const after = body('2026-12-01T18:00:00Z');
    expect(render(routedBody(before), c, false)).toEqual(render(before, c, false));
    expect(render(routedBody(after), c, false)).toEqual(render(after, c, false));
    // Which app scaled last decides which tasks drain: the field matters.
    expect(render(before, c, false)).not.toEqual(render(after, c, false));
  });

  it('keeps what routing reads and nothing else of a full Marathon app', () => {
    const app = {
      id: '/web',
      cmd: 'python3 -m http.server $PORT0',
      env: { SECRET: 's3cret' },
      labels: { HAPROXY_GROUP: 'external' },
      instances: 2,
      container: { type: 'DOCKER', volumes: [{ hostPath: '/x' }], docker: { image: 'nginx', network: 'BRIDGE' } },
      versionInfo: { lastScalingAt: '2026-12-01T00:00:00Z', lastConfigChangeAt: '2026-11-01T00:00:00Z' },
      tasks: [
        {
          id: 'web.1',
          host: '10.0.0.1',
          ports: [31000],
          slaveId: 'agent-1',
          stagedAt: 'x',
          healthCheckResults: [{ alive: true, lastFailureCause: 'x', consecutiveFailures: 0 }, null],
        },
        'not a task',
      ],
    };
    expect(routedApp(app)).toEqual({
      id: '/web',
      labels: { HAPROXY_GROUP: 'external' },
      instances: 2,
      container: { docker: { network: 'BRIDGE' } },
      versionInfo: { lastScalingAt: '2026-12-01T00:00:00Z' },
      tasks: [
        { id: 'web.1', host: '10.0.0.1', ports: [31000], healthCheckResults: [{ alive: true }, null] },
        'not a task',
      ],
    });
    expect(routedApp(null)).toBeNull();
    expect(routedBody({ apps: 'x' })).toEqual({ apps: 'x' });
  });
});

// Strings a splitter could trip over; the pieces may cut UTF-8 sequences in two.
const tricky = fc.stringOf(fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ' ', 'a', 'é', '😀', '\n'), {
  maxLength: 10,
});
const app = fc.record(
  {
    id: tricky,
    labels: fc.dictionary(tricky, tricky, { maxKeys: 2 }),
    tasks: fc.array(fc.record({ id: tricky, host: tricky, slaveId: tricky }), { maxLength: 2 }),
    cmd: tricky,
  },
  { requiredKeys: ['id'] },
);
const fileText = fc
  .tuple(
    fc.array(fc.oneof({ weight: 9, arbitrary: app }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }), {
      maxLength: 6,
    }),
    fc.constantFrom(undefined, 1, '\t'),
    fc.constantFrom('plain', 'plain', 'spaced', 'extra-key', 'not-object', 'trailing-comma', 'empty'),
  )
  .map(([apps, indent, shape]) => {
    const text = (v: unknown): string => JSON.stringify(v, null, indent);
    switch (shape) {
      case 'spaced':
        return `\n {  "apps" :\r\n[ ${apps.map((a) => JSON.stringify(a)).join(' ,\n ')} ]\t}\n\n`;
      case 'extra-key':
        return text({ apps, version: 1 });
      case 'not-object':
        return text(apps);
      case 'trailing-comma':
        return `{"apps":[${apps.map((a) => JSON.stringify(a)).join(',')},]}`;
      case 'empty':
        return '';
      default:
        return text({ apps });
    }
  });

describe('readAppsFile', () => {
  const dir = tempDir('mlb-apps-file-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'apps.json');

  /** What reading the whole text gives: the parsed body with its apps cut down, or the JSON.parse error. */
  const whole = (bytes: Buffer): unknown => parseAppsText(file, bytes.toString('utf8'));

  it('equals JSON.parse of the whole file, apps cut down, for any layout, shape and piece size', () => {
    fc.assert(
      fc.property(fileText, fc.integer({ min: 1, max: 80 }), (text, piece) => {
        const bytes = Buffer.from(text, 'utf8');
        fs.writeFileSync(file, bytes);
        expect(readAppsFile(file, { pieceBytes: piece })).toEqual(whole(bytes));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('parsed whole below wholeBelowBytes (as --dry does under 1 MiB): the same value, and the size told first', () => {
    fc.assert(
      fc.property(fileText, (text) => {
        const bytes = Buffer.from(text, 'utf8');
        fs.writeFileSync(file, bytes);
        const told: number[] = [];
        const inputSize = (n: number): number => told.push(n);
        const byApps = readAppsFile(file, { pieceBytes: 64, inputSize, wholeBelowBytes: 0 });
        expect(readAppsFile(file, { inputSize, wholeBelowBytes: bytes.length + 1 })).toEqual(byApps);
        expect(parseAppsBytes(file, bytes, bytes.length + 1)).toEqual(byApps);
        expect(told).toEqual([bytes.length, bytes.length]);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('gives the very error JSON.parse gives for corrupt bytes', () => {
    fc.assert(
      fc.property(
        corruptBody(fc.array(app, { minLength: 1, maxLength: 4 })),
        fc.integer({ min: 1, max: 64 }),
        ({ bad }, piece) => {
          fs.writeFileSync(file, bad);
          expect(readAppsFile(file, { pieceBytes: piece })).toEqual(whole(bad));
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('standard input, held as bytes and split into apps, gives what the whole text gives, errors included', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fileText.map((t) => Buffer.from(t, 'utf8')),
          corruptBody(fc.array(app)).map((c) => c.bad),
        ),
        (bytes) => {
          expect(parseAppsBytes(file, bytes)).toEqual(whole(bytes));
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('an app longer than a piece, a header after much whitespace, and files it cannot read', () => {
    const big = { apps: [{ id: '/big', labels: { HAPROXY_0_VHOST: 'a'.repeat(5000) } }, { id: '/small' }] };
    fs.writeFileSync(file, JSON.stringify(big));
    expect(readAppsFile(file, { pieceBytes: 16 })).toEqual({ ok: true, value: big });
    // Apps longer than the tail that is looked at before reading (64 KiB), cut by a piece's end.
    const long = (id: string): unknown => ({
      id,
      labels: { HAPROXY_0_VHOST: 'v'.repeat(150_000) },
      cmd: 'x'.repeat(90_000),
    });
    const longFile = { apps: [long('/l1'), { id: '/s' }, long('/l2'), long('/l3')] };
    fs.writeFileSync(file, JSON.stringify(longFile));
    expect(readAppsFile(file, { pieceBytes: 100_000 })).toEqual({ ok: true, value: routedBody(longFile) });
    const spaced = `${' '.repeat(100_000)}{"apps":[{"id":"/a"}]}`;
    fs.writeFileSync(file, spaced);
    expect(readAppsFile(file, { pieceBytes: 1000 })).toEqual({ ok: true, value: { apps: [{ id: '/a' }] } });
    expect(readAppsFile(path.join(dir, 'missing.json'))).toEqual(
      cannotRead(path.join(dir, 'missing.json'), { code: 'ENOENT' }),
    );
    expect(readAppsFile(dir)).toEqual({ ok: false, error: `cannot read apps file ${dir}: EISDIR` });
  });

  it('reads a pipe once, whole: `--dry --apps-file /dev/stdin`, another shape included', () => {
    const app = {
      id: '/web',
      cmd: 'serve',
      labels: { HAPROXY_GROUP: 'external' },
      portDefinitions: [{ port: 10006 }],
      tasks: [{ id: 'web.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
    };
    fs.writeFileSync(file, JSON.stringify({ apps: [app], other: 1 }));
    // Through a shell pipe: Node's own stdio pipes are sockets, which /dev/stdin cannot open (ENXIO).
    const cli = [
      CLI,
      '--dry',
      '--group',
      'external',
      '--apps-file',
      '/dev/stdin',
      '--haproxy-config',
      path.join(dir, 'h.cfg'),
    ];
    const r = spawnSync('sh', ['-c', `cat "$0" | "$@"`, file, process.execPath, ...cli], {
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('backend web_10006');
    expect(r.stdout).toContain('server 10_0_0_1_31000 10.0.0.1:31000');
  });
});
