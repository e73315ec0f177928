import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { findConfigDir } from '../configDir';
import type { Logger } from '../log';
import type { RunningService } from '../service';
import { Simulator, type SimulatorOptions } from '../simulator';
import { bootstrap, serviceStart } from '../wiring/bootstrap';
import { prepareDemoFiles, type DemoPorts } from './setup';

/** The whole product in one process on loopback: simulator (real task servers) + controller + real HAProxy. */
export interface LiveSystem {
  readonly sim: Simulator;
  readonly service: RunningService;
  readonly ports: DemoPorts;
  readonly dir: string;
  stop(): Promise<void>;
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** `simulator`: more simulator options (e.g. timeScale, to run Marathon's clock). */
export async function startLive(opts: {
  apps: unknown[];
  flags?: string[];
  logger: Logger;
  ports?: DemoPorts;
  simulator?: SimulatorOptions;
}): Promise<LiveSystem> {
  const configDir = findConfigDir();
  const ports = opts.ports ?? {
    http: await freeLoopbackPort(),
    https: await freeLoopbackPort(),
    stats: await freeLoopbackPort(),
    appid: await freeLoopbackPort(),
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marathon-lb-live-'));
  const files = prepareDemoFiles(dir, configDir, ports);
  const sim = await Simulator.start({ ...opts.simulator, apps: opts.apps, serveTasks: true });
  const argv = [
    '-m',
    sim.url,
    '--sse',
    '--group',
    'external',
    '--admin-port',
    '0',
    '--debounce-quiet',
    '0.05',
    '--debounce-max-wait',
    '0.5',
    '--max-backoff',
    '2',
    '--hard-stop-after',
    '5',
    ...files.flags,
    ...(opts.flags ?? []),
  ];
  const started = await bootstrap(
    { from: { argv }, env: {}, configDir, logger: () => opts.logger },
    serviceStart({ processSignals: false, pidFile: path.join(dir, 'marathon-lb.pid') }),
  );
  if (!started.ok) {
    await sim.close();
    throw new Error(started.error);
  }
  const service = started.value;
  return {
    sim,
    service,
    ports,
    dir,
    stop: async () => {
      await service.stop();
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One HTTP GET over a fresh connection (no keep-alive), bounded by `timeoutMs`. */
export function httpGet(port: number, host: string, timeoutMs = 2000, pathName = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: pathName, headers: { host }, agent: false, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
