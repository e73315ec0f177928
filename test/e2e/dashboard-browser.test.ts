import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { AdminStatus } from '../../src/admin/statusBook';
import { freeLoopbackPort, startLive } from '../../src/demo/live';
import { findConfigDir } from '../../src/configDir';
import { loadScenario, Simulator } from '../../src/simulator';
import { findHaproxy } from '../support/haproxy';
import { confinedPage, describeWithChromium, launchChromium } from '../support/browser';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { REPO_ROOT } from '../support/paths';
import { RecordingHaproxy } from '../support/recordingHaproxy';
import { waitFor } from '../support/wait';
import { startStack } from '../support/adminStack';

const APP = '/mywebservernew';
const web = (instances: number) => ({
  id: APP,
  instances,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'mywebservernew.example.com' },
  portDefinitions: [{ port: 10001, protocol: 'tcp' }],
});
const badLabels = {
  id: '/badlabels',
  instances: 1,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_MODE: 'udp' },
  portDefinitions: [{ port: 10002, protocol: 'tcp' }],
};
// As `openssl rand -base64` writes one: a raw `+` in `/#token=…` was read as a space (found by an audit).
const TOKEN = 'dash+52a1/c9e07b3f==';
const SCREENSHOT = path.join(REPO_ROOT, 'test-output', 'dashboard.png');

/** The real controller against the simulator with its admin API on a free loopback port. */
async function startDashboardStack(simUrl: string, haproxy: RecordingHaproxy, cleanup: (() => unknown)[]) {
  return startStack(
    [
      '-m',
      simUrl,
      '--sse',
      '--debounce-quiet',
      '0.05',
      '--debounce-max-wait',
      '0.5',
      '--max-backoff',
      '1',
      '--admin-token',
      TOKEN,
      '--admin-port',
      String(await freeLoopbackPort()),
    ],
    haproxy,
    cleanup,
  );
}

describeWithChromium('admin dashboard in headless Chromium', (chromiumInfo) => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  test('shows services, servers, left-out apps and applies, follows changes live, asks for the token', async () => {
    const sim = await Simulator.start({ apps: [web(2), badLabels] });
    cleanup.push(() => sim.close());
    const haproxy = new RecordingHaproxy();
    const { applied, admin } = await startDashboardStack(sim.url, haproxy, cleanup);
    const servers = (): number => applied.current?.model.services.find((v) => v.appId === APP)?.servers.length ?? -1;
    await waitFor('initial apply', () => servers() === 2);
    await waitFor('event stream attached', () => sim.streamCount > 0);

    const browser = await launchChromium(chromiumInfo);
    cleanup.push(() => browser.close());
    // Nothing but the admin server may be asked for anything (no CDN, no fonts, no telemetry).
    const { page, problems } = await confinedPage(browser, new URL(admin.url).origin);
    page.on('console', (msg) => {
      // The only error expected: the 401 of the first poll, made on purpose without the token.
      if (msg.type() === 'error' && !/status of 401/.test(msg.text()))
        problems.push(`console ${msg.type()}: ${msg.text()}`);
    });

    // Opened without the token: the page asks for it; entering it shows the data.
    await page.goto(`${admin.url}/`);
    await page.getByText('This API needs the --admin-token value:').waitFor();
    await page.getByLabel('admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('heading', { name: APP }).waitFor();
    // Kept in memory, not in the address (its bar, the history, a screen share).
    expect(page.url()).not.toContain('token');
    expect(await page.getByText('This API needs the --admin-token value:').isVisible()).toBe(false);

    // What the controller says it runs…
    const status = (await (
      await fetch(`${admin.url}/status`, { headers: { Authorization: `Bearer ${TOKEN}` } })
    ).json()) as AdminStatus;
    const addresses = status.services.find((v) => v.appId === APP)!.servers.map((v) => v.address);
    expect(addresses).toHaveLength(2);
    // …is what a person sees: the app, its backend and route, each server up.
    const card = page.locator('article.app', { has: page.getByRole('heading', { name: APP }) });
    await expect(card.getByText('mywebservernew_10001').textContent()).resolves.toBe('mywebservernew_10001');
    await card.getByText('mywebservernew.example.com').waitFor();
    const rows = card.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    for (const address of addresses) {
      const row = rows.filter({ hasText: address });
      expect(await row.count()).toBe(1);
      // No HAProxy to read here (a recording one): the state the controller wrote, said as such.
      expect(await row.locator('.badge.state').textContent()).toBe('not read (config: up)');
      expect(await row.locator('.badge.marathon').textContent()).toBe('no checks');
    }
    expect(await page.locator('article.app h3').allTextContents()).toEqual([APP]); // the bad app is not served

    // The app left out, with the label and the reason.
    const leftOut = page.locator('#left-out tbody tr');
    expect(await leftOut.count()).toBe(1);
    expect(await leftOut.locator('td').allTextContents()).toEqual([
      '/badlabels',
      '0',
      'HAPROXY_0_MODE',
      'unknown mode "udp" (use http or tcp)',
    ]);

    // The initial apply: a reload with its reason, and its diff behind a click.
    const applies = page.locator('#applies article.apply');
    expect(await applies.count()).toBe(1);
    expect(await applies.first().locator('.badge').first().textContent()).toBe('reload');
    await applies.first().getByText('initial configuration').waitFor();
    await applies.first().getByText('config diff').click();
    await applies.first().locator('pre.diff').getByText('+backend mywebservernew_10001').waitFor();
    await page.getByText('up to date').waitFor();

    // A failed apply, retried: the page follows without a reload of its own.
    haproxy.failNext(1);
    await sim.scale(APP, 3);
    await page.locator('#failures').getByText('haproxy -c rejected the config').waitFor();
    await waitFor('retry applied', () => servers() === 3, 8000);
    // A locator, not waitForFunction: the page's CSP forbids the eval a string predicate needs once it polls.
    await page.locator('article.app tbody tr').nth(2).waitFor();
    expect(await page.locator('article.app tbody tr').count()).toBe(3);
    expect(await applies.count()).toBe(2);
    const newest = applies.first();
    expect(await newest.locator('.badge').first().textContent()).toBe('runtime API');
    await newest
      .locator('ul.reasons li')
      .getByText('runtime API: 1 server(s) added to mywebservernew_10001', { exact: true })
      .waitFor();
    expect(await applies.nth(1).locator('details').getAttribute('open')).toBe(''); // the diff opened before stays open
    expect(await page.locator('#last-error').isVisible()).toBe(false); // recovered
    await page.getByText('3 server(s)', { exact: false }).waitFor();

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(problems).toEqual([]);
  }, 60000);

  test("against the running demo (real HAProxy, the demo scenario): a person sees the demo's services", async () => {
    if (findHaproxy() === undefined)
      throw new Error('haproxy is required for the demo dashboard test: apt-get install -y haproxy');
    const scenario = loadScenario(path.join(findConfigDir(), 'scenarios', 'demo.json'));
    if (!scenario.ok) throw new Error(scenario.error);
    const logs: LogLine[] = [];
    const live = await startLive({
      apps: [...scenario.value.apps],
      logger: memoryLogger(logs),
      admin: true,
      flags: ['--admin-token', TOKEN, '--health-check'],
    });
    cleanup.push(() => live.stop());
    await waitFor('demo applied', () => live.service.status.status().services.length === 2, 20000);

    const browser = await launchChromium(chromiumInfo);
    cleanup.push(() => browser.close());
    const page = await browser.context.newPage();
    page.setDefaultTimeout(10000);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    // Every token leaves the address, the last one given is used, the rest of the hash stays.
    await page.goto(`${live.service.admin!.url}/#view=x&token=wrong&token=${TOKEN}`);
    for (const app of ['/mytcpservice', '/mywebservernew']) await page.getByRole('heading', { name: app }).waitFor();
    expect(new URL(page.url()).hash).toBe('#view=x');
    const web = page.locator('article.app', { has: page.getByRole('heading', { name: '/mywebservernew' }) });
    await web.getByText('mywebservernew_10004').waitFor();
    await web.getByText('mywebservernew.example.com').waitFor();
    expect(await web.locator('tbody tr').count()).toBe(2);
    // HAProxy's own view of both servers (read from its stats), beside Marathon's.
    await web.locator('tbody .badge.state', { hasText: /^UP$/ }).nth(1).waitFor();
    expect(await web.locator('tbody .badge.state').allTextContents()).toEqual(['UP', 'UP']);
    await page.locator('#applies article.apply').first().getByText('initial configuration').waitFor();

    // The demo's scaling shows up live: a task added through the runtime API.
    await live.sim.scale('/mywebservernew', 3);
    await web.locator('tbody tr').nth(2).waitFor();
    // Through the event fast path; the snapshot after it only writes the file (its own apply, on top).
    await page
      .locator('#applies article.apply')
      .getByText('runtime API: 1 server(s) added to mywebservernew_10004', { exact: true })
      .first()
      .waitFor();
    const shot = path.join(REPO_ROOT, 'test-output', 'demo-dashboard.png');
    mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    expect(errors).toEqual([]);
  }, 90000);
});
