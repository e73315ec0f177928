/**
 * Long connections across reloads with a real HAProxy: old workers holding TCP tunnels are counted
 * (mlb_haproxy_old_workers) and bounded by --max-old-workers (HAProxy's mworker-max-reloads, which
 * liveConfig adds): after many reloads no more than the bound linger, the newest tunnels still open.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControllerMetrics } from '../../src/admin/metrics';
import { liveConfig } from '../../src/haproxy/configText';
import { HaproxyProcess } from '../../src/haproxy/process';
import { describeWithHaproxy } from '../support/haproxy';
import { samples } from '../support/metrics';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

describeWithHaproxy('old workers: counted, and bounded by --max-old-workers', (haproxy) => {
  let dir: string;
  let hp: HaproxyProcess | undefined;
  const held: net.Socket[] = [];
  let holder: net.Server | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-old-'));
  });
  afterEach(async () => {
    await hp?.stop();
    held.splice(0).forEach((s) => s.destroy());
    holder?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('each reload leaves the worker holding a tunnel behind; at most 2 linger with --max-old-workers 2; the gauge follows', async () => {
    const [front, back] = [await freePort(), await freePort()];
    let closedAtBackend = 0;
    holder = net.createServer((s) => {
      // a backend that keeps every connection open: a tunnel
      held.push(s);
      s.on('close', () => closedAtBackend++);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => holder!.listen(back, '127.0.0.1', r));
    const cfg = path.join(dir, 'haproxy.cfg');
    const text =
      `global\n  maxconn 256\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n  timeout tunnel 3600s\n` +
      `frontend f\n  bind 127.0.0.1:${front}\n  default_backend b\nbackend b\n  server s 127.0.0.1:${back}\n`;
    const live = liveConfig(text, { hardStopAfterSeconds: undefined, maxOldWorkers: 2 });
    expect(live).toContain('hard-stop-after 3600s'); // no reload cuts the tunnel within its timeout
    fs.writeFileSync(cfg, live);
    hp = new HaproxyProcess({
      bin: haproxy.bin,
      configPath: cfg,
      masterSocketPath: path.join(dir, 'master.sock'),
      pidFile: path.join(dir, 'haproxy.pid'),
      logger: quiet,
    });
    expect((await hp.start()).ok).toBe(true);
    const metrics = new ControllerMetrics({
      now: () => Date.now(),
      haproxyOldWorkers: async () => {
        const p = await hp!.showProc();
        return p.ok ? p.value.oldWorkers.length : null;
      },
    });
    const oldGauge = async (): Promise<number> => samples(await metrics.text()).get('mlb_haproxy_old_workers') ?? NaN;

    const clients: net.Socket[] = [];
    const ignore = (): void => undefined;
    for (let i = 0; i < 5; i++) {
      const before = held.length;
      const c = net.connect(front, '127.0.0.1').on('error', ignore);
      clients.push(c);
      await waitFor('the tunnel to reach the backend', () => held.length > before, 5000);
      const r = await hp.reload();
      expect(r.ok).toBe(true);
      if (i === 0) expect(await oldGauge()).toBe(1);
    }
    // HAProxy stops the workers that survived more than 2 reloads.
    let last = NaN;
    for (let t = 0; t < 100; t++) {
      last = await oldGauge();
      if (last <= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(last).toBe(2);
    // The 3 oldest workers' tunnels were cut; the 2 newest old workers' and the current one's stay open.
    await waitFor('the oldest tunnels to be closed', () => closedAtBackend >= 3, 5000);
    expect(closedAtBackend).toBe(3);
    for (const c of clients) c.destroy();
  }, 40000);
});
