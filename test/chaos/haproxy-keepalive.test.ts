import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLive } from '../../src/demo/live';
import { ensureHardStopAfter, ensureIdleCloseOnResponse, liveConfig } from '../../src/haproxy/configText';
import { HaproxyProcess } from '../../src/haproxy/process';
import { describeWithHaproxy } from '../support/haproxy';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

const RELOADS = Number(process.env.MLB_KEEPALIVE_RELOADS ?? 50);
const CLIENTS = 8;

/** marathon-lb's defaults and an HTTP frontend in front of a keep-alive backend (as the built-in templates render it). */
function config(dir: string, port: number, backend: number): string {
  return [
    'global',
    '  maxconn 1000',
    `  stats socket ${dir}/stats.sock level admin expose-fd listeners`,
    'defaults',
    '  retries 3',
    '  timeout connect 3s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-keep-alive 1s',
    '  timeout http-request 15s',
    '  option dontlognull',
    '  option http-server-close',
    '  option redispatch',
    'frontend web',
    `  bind 127.0.0.1:${port}`,
    '  mode http',
    '  default_backend be',
    'backend be',
    '  mode http',
    `  server s1 127.0.0.1:${backend}`,
    '',
  ].join('\n');
}

interface Tally {
  ok: number;
  failed: string[];
}

/**
 * Keep-alive clients (node's http.Agent, reusing their connections) through a real HAProxy while it
 * reloads `reloads` times; every request and every failure is counted. Bounded in time and count.
 */
async function keepAliveUnderReloads(
  reload: () => Promise<void>,
  port: number,
  reloads: number,
  host = 'localhost',
): Promise<Tally & { reloads: number; reused: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const tally: Tally = { ok: 0, failed: [] };
  let reused = 0;
  let stop = false;
  const deadline = Date.now() + 90000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) tally.ok++;
          else tally.failed.push(`HTTP ${res.statusCode}`);
          resolve();
        });
        res.on('error', (e) => {
          tally.failed.push(`response: ${e.message}`);
          resolve();
        });
      });
      req.on('socket', (s) => {
        if ((s as unknown as { _reused?: boolean })._reused || req.reusedSocket) reused++;
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        tally.failed.push(
          `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message} (reused socket: ${req.reusedSocket})`,
        );
        resolve();
      });
    });
  const client = async (): Promise<void> => {
    while (!stop && Date.now() < deadline && tally.ok + tally.failed.length < 500000) await one();
  };
  const clients = Array.from({ length: CLIENTS }, client);
  let done = 0;
  try {
    // Marker: keep-alive connections carry traffic (two answers a client) before the first reload.
    await waitFor('traffic on keep-alive connections', () => tally.ok >= 2 * CLIENTS, 20000);
    for (; done < reloads && Date.now() < deadline; done++) {
      await reload();
      await new Promise((res) => setTimeout(res, 30)); // traffic on the new worker between reloads
    }
  } finally {
    stop = true;
    await Promise.all(clients);
    agent.destroy();
  }
  return { ...tally, reloads: done, reused };
}

describe('the live config adds option idle-close-on-response', () => {
  it('to every defaults section that does not decide it, and nowhere else', () => {
    const text =
      'global\n  maxconn 1\ndefaults\n  mode http\nfrontend f\n  bind :1\ndefaults tcpd\n  mode tcp\n  no option idle-close-on-response\n';
    expect(ensureIdleCloseOnResponse(text)).toBe(
      'global\n  maxconn 1\ndefaults\n  option idle-close-on-response\n  mode http\nfrontend f\n  bind :1\ndefaults tcpd\n  mode tcp\n  no option idle-close-on-response\n',
    );
    expect(liveConfig('global\ndefaults\n', { hardStopAfterSeconds: 9 })).toBe(
      'global\n  hard-stop-after 9s\ndefaults\n  option idle-close-on-response\n',
    );
    expect(ensureIdleCloseOnResponse('global\n')).toBe('global\n');
  });
});

describeWithHaproxy('keep-alive clients through reloads of a real HAProxy', (haproxy) => {
  let dir: string;
  let backend: http.Server;
  let backendPort: number;
  const running: HaproxyProcess[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-keepalive-'));
    backend = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    backend.keepAliveTimeout = 60000;
    backendPort = await freePort();
    await new Promise<void>((r) => backend.listen(backendPort, '127.0.0.1', r));
  });
  afterEach(async () => {
    for (const hp of running.splice(0)) await hp.stop();
  });
  afterAll(async () => {
    backend.closeAllConnections();
    await new Promise((r) => backend.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = async (
    name: string,
    text: (port: number) => string,
  ): Promise<Tally & { reloads: number; reused: number }> => {
    const port = await freePort();
    const cfg = path.join(dir, `${name}.cfg`);
    fs.writeFileSync(cfg, text(port));
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
    const hp = new HaproxyProcess({
      bin: haproxy.bin,
      configPath: cfg,
      masterSocketPath: path.join(dir, `${name}.sock`),
      pidFile: path.join(dir, `${name}.pid`),
      logger: quiet,
    });
    running.push(hp);
    const started = await hp.start();
    if (!started.ok) throw new Error(started.error.message);
    const reload = async (): Promise<void> => {
      const r = await hp.reload();
      if (!r.ok) throw new Error(r.error.message);
    };
    const result = await keepAliveUnderReloads(reload, port, RELOADS);
    console.log(
      `keep-alive (${name}): ${result.ok + result.failed.length} requests (${result.reused} on reused connections) across ${result.reloads} reloads, ${result.failed.length} failed${result.failed.length ? `: ${[...new Set(result.failed)].slice(0, 3).join('; ')}` : ''}`,
    );
    return result;
  };

  test(`as the controller writes the config (idle-close-on-response): 0 failed requests across ${RELOADS} reloads`, async () => {
    const r = await run('live', (port) => liveConfig(config(dir, port, backendPort), { hardStopAfterSeconds: 5 }));
    expect(r.reloads).toBe(RELOADS);
    expect(r.reused).toBeGreaterThan(RELOADS * 10); // the connections really were kept alive
    expect(r.failed).toEqual([]);
  }, 120000);

  test('without it (HAProxy 2.6 default): failures are possible, and only counted', async () => {
    const r = await run('plain', (port) => ensureHardStopAfter(config(dir, port, backendPort), 5));
    expect(r.reloads).toBe(RELOADS);
    expect(r.ok).toBeGreaterThan(0);
  }, 120000);
});

describeWithHaproxy('keep-alive clients through the live service while it reloads HAProxy', () => {
  test(`the config the controller writes keeps every keep-alive request across ${RELOADS} reloads`, async () => {
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
    const live = await startLive({
      apps: [
        {
          id: '/web',
          instances: 2,
          labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
          portDefinitions: [{ port: 10501 }],
        },
      ],
      logger: quiet,
    });
    try {
      const deadline = Date.now() + 15000;
      while (live.service.status.status().services.find((x) => x.backend === 'web_10501')?.servers.length !== 2) {
        if (Date.now() > deadline) throw new Error('initial apply did not happen');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(fs.readFileSync(path.join(live.dir, 'haproxy.cfg'), 'utf8')).toMatch(
        /^defaults\n {2}option idle-close-on-response\n/m,
      );
      const masterReloads = async (): Promise<number> => {
        const p = await live.service.haproxy.showProc();
        return p.ok ? p.value.master.reloads : -1;
      };
      const reload = async (): Promise<void> => {
        const target = (await masterReloads()) + 1;
        live.service.signals.next('usr1'); // SIGUSR1: validate and reload the config on disk
        const until = Date.now() + 15000;
        while ((await masterReloads()) < target) {
          if (Date.now() > until) throw new Error('a reload did not happen within 15 s');
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      const r = await keepAliveUnderReloads(reload, live.ports.http, RELOADS, 'web.example.com');
      console.log(
        `keep-alive (live service): ${r.ok + r.failed.length} requests (${r.reused} on reused connections) across ${r.reloads} reloads, ${r.failed.length} failed${r.failed.length ? `: ${[...new Set(r.failed)].slice(0, 3).join('; ')}` : ''}`,
      );
      expect(r.reloads).toBe(RELOADS);
      expect(r.reused).toBeGreaterThan(RELOADS * 10);
      expect(r.failed).toEqual([]);
    } finally {
      await live.stop();
    }
  }, 120000);
});
