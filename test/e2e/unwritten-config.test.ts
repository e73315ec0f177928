import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findConfigDir } from '../../src/configDir';
import { freeLoopbackPorts, httpGet } from '../../src/demo/live';
import { prepareDemoFiles } from '../../src/demo/setup';
import { Simulator } from '../../src/simulator';
import type { AdminStatus } from '../../src/admin/statusTypes';
import { webApp } from '../support/fixtures';
import { describeWithHaproxy } from '../support/haproxy';
import { tempDir } from '../support/render';
import { spawnService, type ServiceProcess } from '../support/serviceProcess';
import { waitFor, waitForAsync } from '../support/wait';

/**
 * The config file cannot be written behind a runtime change (a full disk; here a file size limit the
 * test lifts later, which fails writes with EFBIG as a full disk fails them with ENOSPC). It was only
 * logged: /status said all was applied, the file stayed older than HAProxy's servers for good, and a
 * SIGUSR1 reloaded that older file, dropping live tasks (helper 72). Now the failure shows in
 * /status, a SIGUSR1 does not reload the older file, and the file is written once it can be.
 */
describeWithHaproxy('a config file that cannot be written behind a runtime change', () => {
  let sim: Simulator;
  let dir: string;
  let service: ServiceProcess;
  const output = (): string => service.output();
  let ports: { http: number; https: number; stats: number; appid: number; admin: number };
  const cfg = (): string => path.join(dir, 'haproxy.cfg');
  const status = async (): Promise<AdminStatus> =>
    (await (await fetch(`http://127.0.0.1:${ports.admin}/status`)).json()) as AdminStatus;
  const webServers = (): number => (fs.readFileSync(cfg(), 'utf8').match(/^\s*server 127_0_0_1_/gm) ?? []).length;

  beforeAll(async () => {
    dir = tempDir('mlb-unwritten-');
    sim = await Simulator.start({ serveTasks: true, apps: [webApp(10501, 2)] });
    const picked = (await freeLoopbackPorts(5)) as [number, number, number, number, number];
    ports = { http: picked[0], https: picked[1], stats: picked[2], appid: picked[3], admin: picked[4] };
    const files = prepareDemoFiles(dir, findConfigDir(), ports);
    service = spawnService(
      files.flags,
      {
        PATH: process.env.PATH,
        MLB_MARATHON: sim.url,
        MLB_GROUP: 'external',
        MLB_SSE: 'true',
        MLB_ADMIN_PORT: String(ports.admin),
        MLB_SYSLOG_SOCKET: '/dev/null',
        MLB_MAX_BACKOFF: '1',
        MLB_ARCHIVE_VERSIONS: '0',
        MARATHON_LB_PID_FILE: path.join(dir, 'marathon-lb.pid'),
      },
      // A write past the file size limit then fails with EFBIG.
      { ignoring: ['XFSZ'] },
    );
    await service.ready();
  }, 30000);

  afterAll(async () => {
    await service.stop();
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 20000);

  /** The soft file size limit of the controller: room for the config as it is and a few lines more. */
  const limitWrites = (): void => {
    const limit = fs.statSync(cfg()).size + 512;
    execFileSync('prlimit', ['--pid', String(service.child.pid), `--fsize=${limit}:unlimited`]);
  };
  const liftLimit = (): void =>
    void execFileSync('prlimit', ['--pid', String(service.child.pid), '--fsize=unlimited:unlimited']);
  const failedWrite = (): Promise<void> =>
    waitForAsync(
      'the failed write in /status',
      async () => /could not be written/.test((await status()).lastError ?? ''),
      20000,
    );
  const statusClear = (): Promise<void> =>
    waitForAsync(
      '/status clear',
      async () => {
        const s = await status();
        return s.lastError === null && !s.pendingChange;
      },
      10000,
    );

  test('shows in /status, and the file is written once it can be', async () => {
    expect(webServers()).toBe(2);
    limitWrites();
    await sim.scale('/web', 16); // 14 more server lines do not fit
    await failedWrite();
    expect((await status()).pendingChange).toBe(true);
    expect(webServers()).toBe(2); // the older file
    liftLimit();
    await waitFor('the config written', () => webServers() === 16, 20000);
    await statusClear();
    expect(output()).toMatch(/wrote the config file at last/);
  }, 60000);

  test('a SIGUSR1 meanwhile does not reload the older file; once the file can be written, it reloads the newest', async () => {
    limitWrites();
    await sim.scale('/web', 32);
    await failedWrite();
    const before = output().length;
    service.child.kill('SIGUSR1');
    await waitFor('SIGUSR1 refused', () => /SIGUSR1: not reloading/.test(output().slice(before)), 10000);
    expect(output().slice(before)).not.toMatch(/HAProxy reloaded and healthy/);
    // HAProxy still runs every task: each of 32 requests is answered.
    for (let i = 0; i < 32; i++) expect((await httpGet(ports.http, 'web.example.com')).status).toBe(200);
    liftLimit();
    await waitFor('the reload', () => /HAProxy reloaded and healthy: SIGUSR1/.test(output().slice(before)), 20000);
    expect(webServers()).toBe(32);
    await statusClear();
    for (let i = 0; i < 32; i++) expect((await httpGet(ports.http, 'web.example.com')).status).toBe(200);
  }, 60000);

  /** The servers HAProxy runs in the app's backend (its stats page). */
  const runningServers = async (): Promise<number> => {
    const csv = (await httpGet(ports.stats, '127.0.0.1', 3000, '/haproxy?stats;csv')).body;
    return csv.split('\n').filter((l) => l.startsWith('web_10501,') && !/^web_10501,(FRONTEND|BACKEND),/.test(l))
      .length;
  };

  test('HAProxy killed meanwhile is started again from the older file once, with the servers last applied, and not reloaded at every retry', async () => {
    limitWrites();
    await sim.scale('/web', 48); // 16 more server lines do not fit
    await failedWrite().catch((e: Error) => {
      throw new Error(`${e.message}\n${output().slice(-4000)}`);
    });
    const older = webServers();
    expect(older).toBeLessThan(48);
    const before = output().length;
    const master = Number(fs.readFileSync(path.join(dir, 'haproxy.pid'), 'utf8').trim());
    process.kill(master, 'SIGKILL');
    await waitFor('HAProxy started again', () => /haproxy: started, master/.test(output().slice(before)), 10000);
    // Retries come every second at most (--max-backoff 1): none of them reloads the same older file.
    await waitFor(
      'two retries',
      () => /haproxy: started, master[^]*apply failed again \(2 times in a row/.test(output().slice(before)),
      10000,
    );
    expect(output().slice(before)).not.toMatch(/haproxy: reloaded/);
    // HAProxy read the older file, and was brought to the 48 servers last applied through its runtime API.
    expect(webServers()).toBe(older);
    expect(output().slice(before)).toMatch(/brought to the servers last applied through the runtime API/);
    // The restart is done (/healthz need not wait for the disk); the file is what fails, in /status.
    expect((await status()).lastError).toMatch(/the config HAProxy runs could not be written/);
    expect(await runningServers()).toBe(48);
    for (let i = 0; i < 48; i++) expect((await httpGet(ports.http, 'web.example.com')).status).toBe(200);
    liftLimit();
    // Written at last: HAProxy already runs those servers, nothing to reload.
    await waitFor('the config written', () => webServers() === 48, 20000);
    await statusClear();
    expect(await runningServers()).toBe(48);
    expect(output().slice(before)).not.toMatch(/haproxy: reloaded/);
  }, 60000);
});
