import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { startAdminServer } from '../../src/admin/server';
import type { AdminStatus, ProxyTraffic, TrafficPoint } from '../../src/admin/statusTypes';
import { describeWithChromium, launchChromium } from '../support/browser';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { REPO_ROOT } from '../support/paths';
import { waitFor } from '../support/wait';

/*
 * The page against a scripted /status served by the real admin server: every state an operator
 * may meet in one view (a DOWN server with its check reason, MAINT, unchecked, Marathon down,
 * traffic with 5xx), at desktop and phone width. Timing-free, so the layout is checked exactly.
 */

const SHOTS = path.join(REPO_ROOT, 'test-output', 'dashboard-render');
const GEN = Date.parse('2026-12-01T12:00:00.000Z');
const at = (secondsBefore: number): string => new Date(GEN - secondsBefore * 1000).toISOString();
const HOSTILE = '/evil<img src=x onerror="window.__pwned=1">';
const SPOOF = '/spoof\u202etxt.exe';

const history = (n: number, f: (i: number) => [number, number]): TrafficPoint[] =>
  Array.from({ length: n }, (_, i) => ({
    at: at((n - i) * 10),
    currentSessions: 1,
    requestsPerSecond: f(i)[0],
    http5xxPerSecond: f(i)[1],
  }));
const traffic = (name: string, status: string, rps: number, e5: number, h: readonly TrafficPoint[]): ProxyTraffic => ({
  name,
  status,
  currentSessions: 3,
  requestsPerSecond: rps,
  http5xxPerSecond: e5,
  requestsTotal: 1234,
  http5xxTotal: 12,
  history: h,
});
const webTraffic = traffic(
  'web_10001',
  'UP',
  41.5,
  2.25,
  history(30, (i) => [10 + (i % 7) * 5, i > 24 ? 2 : 0]),
);

const STATUS: AdminStatus = {
  generatedAt: at(0),
  lastAppliedAt: at(65),
  secondsSinceLastApply: 65,
  pendingChange: false,
  lastError: 'GET http://marathon:8080/v2/apps: connect ECONNREFUSED',
  unappliedChangeSince: null,
  stale: true,
  staleReason: 'the Marathon event stream has been down for 42 s (--stale-after 30)',
  marathon: {
    eventStream: true,
    streamConnected: false,
    connectedSince: null,
    disconnectedSince: at(42),
    lastEventAt: at(50),
    secondsSinceLastEvent: 50,
    lastSnapshotAt: at(48),
    secondsSinceLastSnapshot: 48,
    lastFetchError: { at: at(2), error: 'GET http://marathon:8080/v2/apps: connect ECONNREFUSED' },
    consecutiveFetchFailures: 7,
    fetchingSince: null,
    secondsFetching: null,
  },
  haproxy: {
    enabled: true,
    readAt: at(1),
    secondsSinceRead: 1,
    error: null,
    intervalSeconds: 2,
    historyStepSeconds: 10,
    historyPoints: 30,
    serversByState: { UP: 1, DOWN: 1, MAINT: 1, DRAIN: 0, NOLB: 0, UNKNOWN: 0 },
    frontends: [traffic('marathon_http_in', 'OPEN', 41.5, 2.25, webTraffic.history)],
    backends: [webTraffic, traffic('a_very_long_backend_name_that_must_wrap_on_a_phone_10002', 'UP', 0, 0, [])],
  },
  services: [
    {
      appId: '/web',
      servicePort: 10001,
      backend: 'web_10001',
      mode: 'http',
      hostname: 'web.example.com',
      path: null,
      traffic: webTraffic,
      servers: [
        {
          name: '10_0_0_1_31000',
          address: '10.0.0.1:31000',
          draining: false,
          marathonHealth: 'healthy',
          haproxy: {
            state: 'UP',
            status: 'UP',
            checked: true,
            check: { status: 'L7OK', code: 200, description: 'Layer7 check passed', durationMs: 1, passed: true },
            lastChangeAt: at(3600),
            secondsSinceChange: 3600,
            currentSessions: 2,
            http5xxTotal: 0,
          },
        },
        {
          name: '10_0_0_2_31000',
          address: '10.0.0.2:31000',
          draining: false,
          marathonHealth: 'healthy',
          haproxy: {
            state: 'DOWN',
            status: 'DOWN',
            checked: true,
            check: { status: 'L7STS', code: 503, description: 'Layer7 wrong status', durationMs: 2, passed: false },
            lastChangeAt: at(20),
            secondsSinceChange: 20,
            currentSessions: 0,
            http5xxTotal: 12,
          },
        },
        {
          name: '10_0_0_3_31000',
          address: '10.0.0.3:31000',
          draining: true,
          marathonHealth: 'none',
          haproxy: {
            state: 'MAINT',
            status: 'MAINT',
            checked: false,
            check: null,
            lastChangeAt: null,
            secondsSinceChange: null,
            currentSessions: 0,
            http5xxTotal: 0,
          },
        },
      ],
    },
    {
      appId: HOSTILE,
      servicePort: 10002,
      backend: 'evil_10002',
      mode: 'tcp',
      hostname: null,
      path: null,
      traffic: null,
      servers: [{ name: 'n', address: '10.0.0.9:1', draining: false, marathonHealth: 'unknown', haproxy: null }],
    },
  ],
  leftOut: [
    { appId: '/bad', portIndex: 0, label: 'HAPROXY_0_MODE', message: 'unknown mode "udp" (use http or tcp)' },
    // A right-to-left override shows "/spoofexe.txt"; a zero-width space hides in a name.
    { appId: SPOOF, portIndex: 0, label: 'HAPROXY_0_MODE', message: 'unknown mode "u\u200bdp" (use http or tcp)' },
  ],
  leftOutTotal: 2,
  recentApplies: [
    {
      at: at(65),
      reloaded: true,
      reasons: ['initial configuration'],
      runtimeOps: 0,
      durationMs: 40,
      diff: '--- a\n+++ b\n@@ -0,0 +1 @@\n+global',
    },
  ],
  recentFailures: [
    {
      at: at(2),
      kind: 'fetch-failed',
      error: 'GET http://marathon:8080/v2/apps: connect ECONNREFUSED',
      retryInMs: 4000,
      durationMs: 3,
    },
  ],
};

describeWithChromium('dashboard rendering of every state (scripted /status, real admin server)', (chromiumInfo) => {
  test('a person reads each state as text, at desktop and at 390 px, and Marathon text stays text', async () => {
    const logs: LogLine[] = [];
    const admin = await startAdminServer({
      port: 0,
      metrics: { contentType: 'text/plain', text: () => Promise.resolve('') },
      status: { status: () => STATUS, version: () => 0 },
      logger: memoryLogger(logs),
    });
    const browser = await launchChromium(chromiumInfo, { width: 390, height: 844 });
    try {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(10000);
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      }); // a CSP violation shows here
      await page.goto(`${admin.url}/`);
      await page.getByRole('heading', { name: '/web', exact: true }).waitFor();

      expect(await page.locator('#stale').textContent()).toBe(
        'Routing may be out of date: the Marathon event stream has been down for 42 s (--stale-after 30)',
      );
      expect(await page.locator('#pending').textContent()).toBe('stale');
      expect(await page.locator('#marathon dd').allTextContents()).toEqual([
        'disconnected for 42 s',
        '50 s ago',
        '48 s ago',
        '2 s ago (7 failing in a row): GET http://marathon:8080/v2/apps: connect ECONNREFUSED',
      ]);
      const row = (address: string) => page.locator(`tr.server[data-server="${address}"]`);
      expect(await row('10.0.0.2:31000').locator('td').allTextContents()).toEqual([
        '10.0.0.2:31000',
        '10_0_0_2_31000',
        'DOWN changed 20 s ago',
        'L7STS 503: Layer7 wrong status',
        'healthy',
      ]);
      expect(await row('10.0.0.1:31000').locator('.badge.state').textContent()).toBe('UP');
      expect(await row('10.0.0.3:31000').locator('td').allTextContents()).toEqual([
        '10.0.0.3:31000',
        '10_0_0_3_31000',
        'MAINT',
        'not checked',
        'no checks',
      ]);
      expect(await row('10.0.0.9:1').locator('td').allTextContents()).toEqual([
        '10.0.0.9:1',
        'n',
        'not read (config: up)',
        '',
        'not read',
      ]);
      const web = page.locator('article.app[data-app="/web"] .meta.traffic');
      expect(await web.locator('[data-metric]').allTextContents()).toEqual(['3 sessions', '41.5/s req', '2.25/s 5xx']);
      expect(await web.locator('svg.chart').getAttribute('aria-label')).toMatch(
        /^requests per second over the last 5 min, peak 40\.0\/s$/,
      );
      expect(await web.locator('svg.chart path.err').count()).toBe(1);
      expect(await page.locator('#traffic .row').textContent()).toContain('servers: 1 UP, 1 DOWN, 1 MAINT');

      // Marathon's text is shown as text, never run or parsed as HTML.
      expect(await page.getByRole('heading', { name: HOSTILE }).count()).toBe(1);
      expect(await page.locator('article.app img').count()).toBe(0);
      expect(await page.evaluate<unknown>('window.__pwned')).toBeUndefined();
      // Invisible marks are shown, not obeyed (found by an audit): the text reads in the order it has.
      expect(await page.locator('#left-out tr').nth(2).locator('td').allTextContents()).toEqual([
        '/spoof\\u202etxt.exe',
        '0',
        'HAPROXY_0_MODE',
        'unknown mode "u\\u200bdp" (use http or tcp)',
      ]);
      expect(await page.evaluate<string>('document.body.innerText')).not.toMatch(/[\u202e\u200b]/);

      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'all-states-390.png'), fullPage: true });
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: path.join(SHOTS, 'all-states.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await admin.close();
    }
  }, 60000);

  test('a big cluster: 100 app cards and 50 servers a backend are drawn, the servers not UP among them; the filter finds the rest', async () => {
    const upServer = STATUS.services[0]!.servers[0]!;
    const downServer = STATUS.services[0]!.servers[1]!;
    const server = (i: number, down: boolean) => ({
      ...(down ? downServer : upServer),
      name: `s${i}`,
      address: `10.1.${i >> 8}.${i & 255}:31000`,
    });
    const big: AdminStatus = {
      ...STATUS,
      services: Array.from({ length: 3000 }, (_, a) => ({
        ...STATUS.services[0]!,
        appId: `/app-${a}`,
        servicePort: 10000 + a,
        backend: `app-${a}_${10000 + a}`,
        hostname: `app-${a}.example.com`,
        traffic: null,
        // The first app: 2 000 servers, the last two DOWN.
        servers: Array.from({ length: a === 0 ? 2000 : 1 }, (_, i) => server(i, a === 0 && i >= 1998)),
      })),
    };
    let reads = 0;
    const admin = await startAdminServer({
      port: 0,
      metrics: { contentType: 'text/plain', text: () => Promise.resolve('') },
      status: { status: () => (reads++, big), version: () => 0 },
      logger: memoryLogger([]),
    });
    const browser = await launchChromium(chromiumInfo, { width: 1280, height: 900 });
    try {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(10000);
      await page.goto(`${admin.url}/`);
      await page.getByRole('heading', { name: '/app-0', exact: true }).waitFor();
      expect(await page.locator('article.app').count()).toBe(100);
      expect(await page.locator('#services > p.muted').textContent()).toBe(
        'Showing 100 of 3000 apps: filter to find the others.',
      );
      const first = page.locator('article.app[data-app="/app-0"]');
      expect(await first.locator('tr.server').count()).toBe(50);
      expect(await first.locator('tr.server').nth(0).getAttribute('data-server')).toBe('10.1.7.206:31000');
      expect(await first.locator('tr.server .badge.state').nth(1).textContent()).toBe('DOWN');
      expect(await first.locator('.not-listed').textContent()).toBe(
        '1950 more server(s) not listed, all UP (see /status)',
      );
      expect(await page.locator('#totals').textContent()).toBe('3000 service port(s), 4999 server(s), 2 left out');

      await page.locator('#services-filter').fill('APP-2999.example');
      expect(await page.locator('article.app').count()).toBe(1);
      expect(await page.locator('article.app h3').textContent()).toBe('/app-2999');
      expect(await page.locator('#services > p.muted').count()).toBe(0);
      // Kept across the next read of /status: once a second one starts, the first was drawn.
      const readsBefore = reads;
      await waitFor('two more reads of /status', () => reads >= readsBefore + 2, 25000);
      expect(await page.locator('article.app h3').allTextContents()).toEqual(['/app-2999']);
      await page.locator('#services-filter').fill('no-such-app');
      expect(await page.locator('#services p.empty').textContent()).toBe('No app matches "no-such-app".');
    } finally {
      await browser.close();
      await admin.close();
    }
  }, 60000);
});
