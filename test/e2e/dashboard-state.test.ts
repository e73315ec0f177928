import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { AdminStatus, ServerStatus } from '../../src/admin/statusTypes';
import { freeLoopbackPort, httpGet, startLive, type LiveSystem } from '../../src/demo/live';
import { confinedPage, describeWithChromium, launchChromium, type ChromiumInfo } from '../support/browser';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { describeWithHaproxy } from '../support/haproxy';
import { REPO_ROOT } from '../support/paths';
import { waitFor } from '../support/wait';

/*
 * What an operator sees on the dashboard, in headless Chromium, against the whole product: the
 * simulator (real task servers), the controller and a real HAProxy whose `show stat` the controller
 * reads every second. Screenshots (desktop and a 390 px phone) go to test-output/dashboard-state/.
 */

const TOKEN = 'state-7d41e2a9c0';
const STALE_AFTER_S = 3;
const SHOTS = path.join(REPO_ROOT, 'test-output', 'dashboard-state');
const PHONE = { width: 390, height: 844 };

const webApp = (servicePort: number, healthChecks: unknown[] = []) => ({
  id: '/web',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
  portDefinitions: [{ port: servicePort, protocol: 'tcp' }],
  healthChecks,
});
/** HAProxy checks /health every second and marks a server DOWN after 2 failures (fall = maxConsecutiveFailures + 1). */
const HTTP_CHECK = {
  protocol: 'HTTP',
  path: '/health',
  portIndex: 0,
  gracePeriodSeconds: 0,
  intervalSeconds: 1,
  timeoutSeconds: 1,
  maxConsecutiveFailures: 1,
};

describeWithHaproxy('dashboard state against a real HAProxy', () => {
  describeWithChromium('in headless Chromium', (chromiumInfo: ChromiumInfo) => {
    const cleanup: (() => unknown)[] = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f();
    });

    async function start(apps: unknown[]): Promise<{ live: LiveSystem; status: () => Promise<AdminStatus> }> {
      const logs: LogLine[] = [];
      const live = await startLive({
        apps,
        logger: memoryLogger(logs),
        admin: true,
        flags: [
          '--admin-token',
          TOKEN,
          '--health-check',
          '--haproxy-stats-interval',
          '1',
          '--stale-after',
          String(STALE_AFTER_S),
        ],
      });
      cleanup.push(() => live.stop());
      const status = async (): Promise<AdminStatus> =>
        (await (
          await fetch(`${live.service.admin!.url}/status`, {
            headers: { Authorization: `Bearer ${TOKEN}` },
            signal: AbortSignal.timeout(5000),
          })
        ).json()) as AdminStatus;
      await waitFor(
        'both servers applied',
        () => live.service.status.status().services[0]?.servers.length === 2,
        20000,
      );
      return { live, status };
    }

    /** The page with the token, failing the test on any script error or any request leaving the admin server. */
    async function open(live: LiveSystem): Promise<{ page: Page; problems: string[] }> {
      const browser = await launchChromium(chromiumInfo);
      cleanup.push(() => browser.close());
      const { page, problems } = await confinedPage(browser, new URL(live.service.admin!.url).origin);
      await page.goto(`${live.service.admin!.url}/#token=${TOKEN}`);
      await page.getByRole('heading', { name: '/web' }).waitFor();
      return { page, problems };
    }

    /** Full-page screenshots at desktop and phone width; at phone width nothing may stick out sideways. */
    async function shoot(page: Page, name: string): Promise<void> {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
      await page.setViewportSize(PHONE);
      await page.screenshot({ path: path.join(SHOTS, `${name}-390.png`), fullPage: true });
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    test("a task whose health endpoint fails turns red, with HAProxy's check reason, while Marathon still calls it healthy", async () => {
      const { live, status } = await start([webApp(await freeLoopbackPort(), [HTTP_CHECK])]);
      const { page, problems } = await open(live);
      const servers = page.locator('article.app tr.server');
      await servers.locator('.badge.state', { hasText: /^UP$/ }).nth(1).waitFor({ timeout: 15000 });

      const [broken, fine] = live.sim.tasksOf('/web');
      const address = (t: typeof broken): string => `${t!.host}:${t!.ports[0]}`;
      live.sim.setEndpointHealth(broken!.id, false);

      const row = page.locator(`tr.server[data-server="${address(broken)}"]`);
      await row.locator('.badge.state', { hasText: /^DOWN$/ }).waitFor({ timeout: 15000 });
      await row.locator('.check', { hasText: 'Layer7 wrong status' }).waitFor();
      // The same words /status has: HAProxy's check status, the HTTP code and its reason.
      const seen = (await status()).services[0]!.servers.find((v) => v.address === address(broken)) as ServerStatus;
      expect(seen.haproxy).toMatchObject({
        state: 'DOWN',
        check: { status: 'L7STS', code: 503, description: 'Layer7 wrong status', passed: false },
      });
      expect(await row.locator('.check').textContent()).toBe('L7STS 503: Layer7 wrong status');
      expect(await row.getAttribute('class')).toContain('tone-row-bad');
      expect(await row.locator('.badge.state').getAttribute('class')).toContain('tone-bad');
      expect(await row.locator('.badge.marathon').textContent()).toBe('healthy'); // Marathon has not noticed
      expect(await page.locator(`tr.server[data-server="${address(fine)}"] .badge.state`).textContent()).toBe('UP');
      await page.locator('#traffic').getByText('1 DOWN', { exact: false }).waitFor();
      await shoot(page, 'server-down');

      // Its endpoint answers again: HAProxy brings it back (rise 2), and so does the page.
      live.sim.setEndpointHealth(broken!.id, true);
      await row.locator('.badge.state', { hasText: /^UP$/ }).waitFor({ timeout: 15000 });
      expect(await row.getAttribute('class')).not.toContain('tone-row-bad');
      expect(problems).toEqual([]);
    }, 90000);

    test('stopping the simulator (Marathon gone) shows the stale banner after --stale-after', async () => {
      const { live, status } = await start([webApp(await freeLoopbackPort())]);
      const { page, problems } = await open(live);
      const marathon = page.locator('#marathon');
      await marathon.getByText('connected for', { exact: false }).waitFor();
      expect(await page.locator('#stale').isVisible()).toBe(false);
      expect(await page.locator('#pending').textContent()).toBe('up to date');

      await live.sim.close();
      // What is asserted is the state the page shows, not how fast: the bound is generous (no wall-clock test).
      const banner = page.locator('#stale');
      await banner.waitFor({ state: 'visible', timeout: 30000 });
      const s = await status();
      expect(s.stale).toBe(true);
      expect(await banner.getAttribute('role')).toBe('alert');
      const down = /the Marathon event stream has been down for \d+ s: changes in Marathon are not seen$/;
      expect(s.staleReason).toMatch(down);
      expect(await banner.textContent()).toMatch(/^Routing may be out of date: /);
      expect(await banner.textContent()).toMatch(down);
      expect(await page.locator('#pending').textContent()).toBe('stale');
      await marathon.getByText('disconnected', { exact: false }).waitFor();
      await shoot(page, 'stale');
      expect(problems).toEqual([]);
    }, 90000);

    test('traffic sent through HAProxy shows up in the request rate and its chart', async () => {
      const { live, status } = await start([webApp(await freeLoopbackPort())]);
      const { page, problems } = await open(live);
      const backend = (await status()).services[0]!.backend;
      const card = page.locator('article.app');
      await card.locator('[data-metric="requests"]').waitFor({ timeout: 15000 }); // HAProxy read at least once
      expect(await card.locator('[data-metric="requests"] b').textContent()).toBe('0.00/s');

      // Requests through HAProxy's HTTP port for the vhost, until the page shows a rate (bounded).
      let sent = 0;
      let sending = true;
      const load = (async () => {
        for (let i = 0; sending && i < 2000; i++) {
          const answer = await httpGet(live.ports.http, 'web.example.com');
          expect(answer.status).toBe(200);
          sent++;
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      try {
        await card
          .locator('[data-metric="requests"] b')
          .filter({ hasNotText: /^0\.00\/s$/ })
          .waitFor({ timeout: 15000 });
        const row = page.locator(`#traffic tr[data-proxy="${backend}"]`);
        await row
          .locator('[data-metric="requests"] b')
          .filter({ hasNotText: /^0\.00\/s$/ })
          .waitFor();
        await card.locator('svg.chart path.req').waitFor();
        expect(await card.locator('svg.chart').getAttribute('aria-label')).toMatch(/peak (?!0\.00\/s)\d/);
        await shoot(page, 'traffic');
      } finally {
        sending = false;
        await load;
      }
      // Every request HAProxy forwarded is counted once in the backend's total (no checks here), at the next read.
      let total = -1;
      for (let i = 0; i < 20 && total !== sent; i++) {
        total = (await status()).services[0]!.traffic?.requestsTotal ?? -1;
        if (total !== sent) await new Promise((r) => setTimeout(r, 500));
      }
      expect(total).toBe(sent);
      expect(problems).toEqual([]);
    }, 90000);
  });
});
