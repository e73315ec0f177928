import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findConfigDir } from '../../src/configDir';
import { freeLoopbackPorts, httpGet } from '../../src/demo/live';
import { prepareDemoFiles } from '../../src/demo/setup';
import { Simulator } from '../../src/simulator';
import { webApp } from '../support/fixtures';
import { describeWithHaproxy } from '../support/haproxy';
import { tempDir } from '../support/render';
import { spawnService } from '../support/serviceProcess';

/**
 * Something other than a config file at --haproxy-config when the service starts (left there between
 * runs): a FIFO held the start for good, a link to /dev/full filled memory at ~300 MB/s (helper 72),
 * and neither stopped on SIGTERM. The service starts, replaces it with its config and serves.
 */
describeWithHaproxy('a FIFO or a device at --haproxy-config when the service starts', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await Simulator.start({ serveTasks: true, apps: [webApp(10401)] });
  });
  afterAll(() => sim.close());

  test.each([
    ['a FIFO', (cfg: string) => execFileSync('mkfifo', [cfg])],
    ['a link to /dev/full', (cfg: string) => fs.symlinkSync('/dev/full', cfg)],
  ])(
    '%s: replaced by the config, which HAProxy serves; SIGTERM stops it',
    async (_what, plant) => {
      const dir = tempDir('mlb-cfgpath-');
      const [http, https, stats, appid] = (await freeLoopbackPorts(4)) as [number, number, number, number];
      const files = prepareDemoFiles(dir, findConfigDir(), { http, https, stats, appid });
      const cfg = path.join(dir, 'haproxy.cfg');
      plant(cfg);
      const service = spawnService(files.flags, {
        PATH: process.env.PATH,
        MLB_MARATHON: sim.url,
        MLB_GROUP: 'external',
        MLB_SSE: 'true',
        MLB_ADMIN_PORT: '0',
        MLB_SYSLOG_SOCKET: '/dev/null',
        MARATHON_LB_PID_FILE: path.join(dir, 'marathon-lb.pid'),
      });
      try {
        await service.ready();
        expect(fs.lstatSync(cfg).isFile()).toBe(true);
        expect(fs.readFileSync(cfg, 'utf8')).toContain('backend web_10401');
        expect((await httpGet(http, 'web.example.com')).status).toBe(200);
        service.child.kill('SIGTERM');
        const code = await new Promise<number | null>((r) => service.child.once('exit', (c) => r(c)));
        expect(code).toBe(0);
      } finally {
        service.child.kill('SIGKILL');
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    30000,
  );
});
