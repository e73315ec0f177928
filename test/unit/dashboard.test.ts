import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { assemblePage, pageCsp } from '../../src/admin/dashboardPage';
import type { AdminStatus, MarathonStatus, ServerRuntime, ServerStatus } from '../../src/admin/statusTypes';
import { chartGeometry } from '../../src/dashboard/chart';
import { ago, diffLineKind, duration, rate } from '../../src/dashboard/format';
import {
  APPS_DRAWN,
  marathonFacts,
  PROXIES_DRAWN,
  proxiesShown,
  serverView,
  serversShown,
  servicesShown,
  SERVERS_DRAWN,
  staleBanner,
} from '../../src/dashboard/view';
import { REPO_ROOT } from '../support/paths';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const before = (s: number): string => new Date(NOW - s * 1000).toISOString();

describe('dashboard text', () => {
  test('ages, durations and rates read as people say them', () => {
    expect([ago(null, NOW), ago(before(12), NOW), ago(before(185), NOW), ago(before(7500), NOW)]).toEqual([
      'never',
      '12 s ago',
      '3 min ago',
      '2 h 5 min ago',
    ]);
    expect(duration(-3)).toBe('0 s'); // a browser clock ahead of the controller's never shows negative ages
    expect([rate(0), rate(3.14159), rate(42.25), rate(1234.5), rate(-1)]).toEqual([
      '0.00/s',
      '3.14/s',
      '42.3/s',
      '1235/s',
      '0.00/s',
    ]);
  });

  test('diff lines: added and removed, not the file headers', () => {
    expect(['+++ b', '--- a', '+x', '-y', '@@ -1 +1 @@', ' z'].map(diffLineKind)).toEqual([
      '',
      '',
      'add',
      'del',
      'hunk',
      '',
    ]);
  });
});

describe('dashboard view', () => {
  const runtime = (over: Partial<ServerRuntime>): ServerRuntime => ({
    state: 'UP',
    status: 'UP',
    checked: true,
    check: { status: 'L7OK', code: 200, description: 'Layer7 check passed', durationMs: 1, passed: true },
    lastChangeAt: before(90),
    secondsSinceChange: 90,
    currentSessions: 0,
    http5xxTotal: 0,
    ...over,
  });
  const server = (haproxy: ServerRuntime | null, over: Partial<ServerStatus> = {}): ServerStatus => ({
    name: 's1',
    address: '127.0.0.1:31000',
    draining: false,
    marathonHealth: 'healthy',
    haproxy,
    ...over,
  });

  test("a server HAProxy marks DOWN is red, with HAProxy's check reason, beside Marathon's health", () => {
    const v = serverView(
      server(
        runtime({
          state: 'DOWN',
          status: 'DOWN',
          check: { status: 'L7STS', code: 503, description: 'Layer7 wrong status', durationMs: 2, passed: false },
        }),
      ),
      NOW,
    );
    expect(v).toEqual({
      state: { text: 'DOWN', tone: 'bad', title: 'HAProxy: DOWN' },
      check: 'L7STS 503: Layer7 wrong status',
      changed: 'changed 1 min ago',
      marathon: { text: 'healthy', tone: 'ok', title: "Marathon's health checks pass" },
    });
  });

  test('states other than UP and DOWN keep their own words; unchecked servers say so', () => {
    expect(serverView(server(runtime({ state: 'UP', status: 'UP 1/3' })), NOW).state).toMatchObject({
      text: 'UP 1/3',
      tone: 'ok',
    });
    expect(serverView(server(runtime({ state: 'MAINT', status: 'MAINT' }), { draining: true }), NOW).state).toEqual({
      text: 'MAINT',
      tone: 'muted',
      title: 'HAProxy: MAINT (the controller drains it)',
    });
    expect(serverView(server(runtime({ state: 'DRAIN', status: 'DRAIN' })), NOW).state.tone).toBe('warn');
    expect(
      serverView(server(runtime({ status: 'no check', checked: false, check: null, lastChangeAt: null })), NOW),
    ).toMatchObject({ state: { text: 'UP', tone: 'ok' }, check: 'not checked', changed: '' });
  });

  test('before HAProxy is read, the state says so, with what the controller wrote (never a bare "up")', () => {
    expect(serverView(server(null, { marathonHealth: 'none' }), NOW)).toMatchObject({
      state: { text: 'not read (config: up)', tone: 'muted' },
      check: '',
      marathon: { text: 'no checks' },
    });
    expect(serverView(server(null, { draining: true, marathonHealth: 'unknown' }), NOW)).toMatchObject({
      state: { text: 'not read (config: draining)' },
      marathon: { text: 'not read', tone: 'muted' },
    });
  });

  const marathon = (over: Partial<MarathonStatus>): MarathonStatus => ({
    eventStream: true,
    streamConnected: true,
    connectedSince: before(120),
    disconnectedSince: null,
    lastEventAt: before(5),
    secondsSinceLastEvent: 5,
    lastSnapshotAt: before(5),
    secondsSinceLastSnapshot: 5,
    lastFetchError: null,
    consecutiveFetchFailures: 0,
    fetchingSince: null,
    secondsFetching: null,
    ...over,
  });

  test('a long read of /v2/apps is shown while it runs; a short one is not', () => {
    expect(marathonFacts(marathon({ fetchingSince: before(3), secondsFetching: 3 }), NOW)).toHaveLength(3);
    expect(marathonFacts(marathon({ fetchingSince: before(40), secondsFetching: 40 }), NOW)).toContainEqual({
      label: 'Reading /v2/apps',
      value: 'for 40 s',
      tone: 'warn',
    });
  });

  test("Marathon's state: stream, last event, last snapshot, the fetch error while it lasts", () => {
    expect(marathonFacts(marathon({}), NOW)).toEqual([
      { label: 'Event stream', value: 'connected for 2 min', tone: 'ok' },
      { label: 'Last event', value: '5 s ago', tone: 'muted' },
      { label: 'Last snapshot', value: '5 s ago', tone: 'ok' },
    ]);
    const down = marathonFacts(
      marathon({
        streamConnected: false,
        connectedSince: null,
        disconnectedSince: before(40),
        lastSnapshotAt: before(45),
        lastFetchError: { at: before(3), error: 'GET /v2/apps: connection refused' },
        consecutiveFetchFailures: 4,
      }),
      NOW,
    );
    expect(down).toEqual([
      { label: 'Event stream', value: 'disconnected for 40 s', tone: 'bad' },
      { label: 'Last event', value: '5 s ago', tone: 'muted' },
      { label: 'Last snapshot', value: '45 s ago', tone: 'bad' },
      {
        label: 'Last fetch error',
        value: '3 s ago (4 failing in a row): GET /v2/apps: connection refused',
        tone: 'bad',
      },
    ]);
    expect(
      marathonFacts(marathon({ streamConnected: false, connectedSince: null, disconnectedSince: before(4) }), NOW)[2],
    ).toEqual({ label: 'Last snapshot', value: '5 s ago', tone: 'warn' });
    expect(marathonFacts(marathon({ eventStream: false, streamConnected: false }), NOW)[0]).toEqual({
      label: 'Event stream',
      value: 'not used (polling)',
      tone: 'muted',
    });
  });

  test('the stale banner carries the reason /status gives', () => {
    const s = { stale: true, staleReason: 'the Marathon event stream has been down for 31 s' } as AdminStatus;
    expect(staleBanner(s)).toEqual({
      text: 'Routing may be out of date: the Marathon event stream has been down for 31 s',
      tone: 'bad',
    });
    expect(staleBanner({ ...s, stale: false, staleReason: null })).toBeNull();
  });
});

describe('dashboard chart', () => {
  // Times in seconds, the window 2 steps of 10 s: x is where a point's time puts it.
  const at = (...s: number[]): number[] => s.map((x) => x * 1000);
  test('newest point at the right edge, scaled to the peak; a short history fills from the right', () => {
    expect(chartGeometry([0, 5, 10], at(0, 10, 20), 20_000, 10_000, 100, 20)).toEqual({
      line: 'M0 20 L50 10 L100 0',
      area: 'M0 20 L50 10 L100 0 L100 20 L0 20 Z',
      top: 10,
    });
    expect(chartGeometry([2], at(40), 40_000, 10_000, 100, 20).line).toBe('M75 0 L100 0');
    expect(chartGeometry([0, 0], at(0, 10), 10_000, 10_000, 100, 20, 1).line).toBe('M0 20 L100 20'); // quiet: a flat line at the bottom, not a division by 0
    expect(chartGeometry([], [], 40_000, 10_000, 100, 20)).toEqual({ line: '', area: '', top: 1 });
    expect(chartGeometry([1, 2, 3, 4], at(0, 10, 20, 30), 10_000, 10_000, 100, 20).line).toBe('M0 5 L100 0'); // only the window's points
  });

  test('points are placed by their time, not their index: reads a minute apart cover the window they span', () => {
    // Found by an audit: 30 points over 6 min were drawn as 10 s steps under "last 5 min".
    expect(chartGeometry([4, 4, 4], at(0, 60, 80), 80_000, 10_000, 80, 20).line).toBe('M0 0 L60 0 L80 0');
    expect(chartGeometry([4, 4, 4], at(0, 200, 400), 300_000, 10_000, 100, 20).line).toBe('M33.3 0 L100 0'); // the oldest is outside 5 min
  });
});

describe('dashboard page build', () => {
  test('npm run build bundles the browser code with esbuild into the one page: no module loader left, CSP by hash', () => {
    const page = readFileSync(path.join(REPO_ROOT, 'dist', 'dashboard', 'index.html'), 'utf8');
    const csp = pageCsp(page);
    expect(csp.ok).toBe(true);
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
    expect(script).toContain('/status'); // the page's own code, not an empty bundle
    expect(script).not.toMatch(/\brequire\(/);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test('the page inlines its style and script, and the CSP allows exactly those by hash', () => {
    const html = '<head><link rel="stylesheet" href="style.css"></head><body><script src="main.js"></script></body>';
    const page = assemblePage(html, 'b{x:1}\n', 'var s = "$&";\n');
    if (!page.ok) throw new Error(page.error);
    expect(page.value).toBe('<head><style>\nb{x:1}\n</style></head><body><script>\nvar s = "$&";\n</script></body>');
    const csp = pageCsp(page.value);
    const hash = (s: string): string => createHash('sha256').update(s).digest('base64');
    expect(csp).toEqual({
      ok: true,
      value: expect.stringContaining(
        `script-src 'sha256-${hash('\nvar s = "$&";\n')}'; style-src 'sha256-${hash('\nb{x:1}\n')}'`,
      ),
    });
    expect(assemblePage(html, '', 'x = "</script>"')).toEqual({
      ok: false,
      error: 'dashboard build: the script must not contain "</script"',
    });
    expect(assemblePage('<body></body>', '', '').ok).toBe(false);
  });

  test('the source index.html names only style.css and main.js, nothing outside the page', () => {
    const html = readFileSync(path.join(REPO_ROOT, 'src', 'dashboard', 'index.html'), 'utf8');
    const page = assemblePage(html, '', '');
    expect(page.ok).toBe(true);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(readFileSync(path.join(REPO_ROOT, 'src', 'dashboard', 'style.css'), 'utf8')).not.toMatch(/url\(|@import/);
  });
});

describe("what a big cluster's page draws", () => {
  const server = (i: number, state: ServerRuntime['state'] | null): ServerStatus => ({
    name: `s${i}`,
    address: `10.0.0.${i}:1`,
    draining: false,
    marathonHealth: 'none',
    haproxy:
      state === null
        ? null
        : {
            state,
            status: state,
            checked: false,
            check: null,
            lastChangeAt: null,
            secondsSinceChange: null,
            currentSessions: 0,
            http5xxTotal: 0,
          },
  });
  const service = (appId: string, port: number, hostname: string | null = null) => ({
    appId,
    servicePort: port,
    backend: `${appId.slice(1)}_${port}`,
    mode: 'http',
    hostname,
    path: null,
    traffic: null,
    servers: [],
  });

  test('every server up to the bound; past it, those not UP first (unread ones too), in their order, and the rest counted', () => {
    const few = [server(1, 'DOWN'), server(2, 'UP')];
    expect(serversShown(few)).toEqual({ servers: few, notListed: 0, notListedDown: 0 });
    const many = Array.from({ length: SERVERS_DRAWN + 10 }, (_, i) =>
      server(i, i === 55 ? 'DOWN' : i === 59 ? null : 'UP'),
    );
    const shown = serversShown(many);
    expect(shown.servers.map((v) => v.name).slice(0, 3)).toEqual(['s55', 's59', 's0']);
    expect(shown.servers).toHaveLength(SERVERS_DRAWN);
    expect([shown.notListed, shown.notListedDown]).toEqual([10, 0]);
    const allDown = Array.from({ length: SERVERS_DRAWN + 3 }, (_, i) => server(i, 'DOWN'));
    expect([serversShown(allDown).notListed, serversShown(allDown).notListedDown]).toEqual([3, 3]);
  });

  test('apps in order, at most the bound, each with its services; the filter reads id, backend, host and port in any case', () => {
    const services = [
      service('/a', 10000, 'Shop.example.com'),
      service('/b', 10001),
      service('/a', 10002),
      ...Array.from({ length: APPS_DRAWN + 5 }, (_, i) => service(`/x${i}`, 11000 + i)),
    ];
    const all = servicesShown(services, '');
    expect(all.matching).toBe(APPS_DRAWN + 7);
    expect(all.apps).toHaveLength(APPS_DRAWN);
    expect(all.apps[0]![0]).toBe('/a');
    expect(all.apps[0]![1].map((s) => s.servicePort)).toEqual([10000, 10002]);
    expect(servicesShown(services, ' shop.EXAMPLE ').apps.map(([id, list]) => [id, list.length])).toEqual([['/a', 1]]);
    expect(servicesShown(services, '10001').apps.map(([id]) => id)).toEqual(['/b']);
    expect(servicesShown(services, 'x10_').apps.map(([id]) => id)).toEqual(['/x10']);
    expect(servicesShown(services, 'nothing').matching).toBe(0);
  });

  test("apps with a server HAProxy does not have UP come first, past the bound too; a server's address finds its app", () => {
    const apps = Array.from({ length: APPS_DRAWN + 50 }, (_, i) => ({
      ...service(`/x${i}`, 11000 + i),
      servers: [server(i, i === APPS_DRAWN + 40 ? 'DOWN' : 'UP')],
    }));
    const shown = servicesShown(apps, '');
    expect(shown.apps[0]![0]).toBe(`/x${APPS_DRAWN + 40}`);
    expect(shown.apps[1]![0]).toBe('/x0');
    expect(servicesShown(apps, '10.0.0.7:1').apps.map(([id]) => id)).toEqual(['/x7']);
  });

  test('traffic tables: every proxy up to the bound; past it, those not UP or OPEN first, then the most 5xx and requests', () => {
    const proxy = (i: number, status: string, rps: number) => ({
      name: `p${i}`,
      status,
      currentSessions: 0,
      requestsPerSecond: rps,
      http5xxPerSecond: 0,
      requestsTotal: 0,
      http5xxTotal: 0,
      history: [],
    });
    const few = [proxy(1, 'UP', 1)];
    expect(proxiesShown(few)).toEqual({ proxies: few, notListed: 0 });
    const many = Array.from({ length: PROXIES_DRAWN + 20 }, (_, i) =>
      proxy(i, i === 65 ? 'DOWN' : 'UP', i === 3 ? 9 : 0),
    );
    const shown = proxiesShown(many);
    expect(shown.proxies.slice(0, 2).map((p) => p.name)).toEqual(['p65', 'p3']);
    expect([shown.proxies.length, shown.notListed]).toEqual([PROXIES_DRAWN, 20]);
  });
});
