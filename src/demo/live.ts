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
  return (await freeLoopbackPorts(1))[0]!;
}

/**
 * Test systems take their ports below the kernel's ephemeral range, where no later listen on port 0
 * (the simulator's task servers) can be given them. Single ports and consecutive blocks (a test's
 * service ports) come from two disjoint ranges, so that a test's own picks never overlap: a block is
 * not held while its test picks its other ports.
 */
const SINGLE_PORTS_FROM = 20000;
const BLOCKS_FROM = 25000;

/** The first port of the kernel's ephemeral range (what a listen on port 0 is given), 32768 by default. */
function ephemeralStart(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? Math.min(low, 65536) : 32768;
  } catch {
    return 32768;
  }
}

/** Listens on 127.0.0.1:port (0: the kernel picks), or null when it is taken. */
function holdPort(port: number): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(srv));
  });
}

function release(held: readonly net.Server[]): Promise<unknown> {
  return Promise.all(held.map((srv) => new Promise((resolve) => srv.close(resolve))));
}

/**
 * `n` distinct free loopback ports: each held open until all are known, so none is handed out twice.
 * `range` [from, to) when the caller's own ports are in the default one (bench:scale's service ports).
 */
export async function freeLoopbackPorts(
  n: number,
  range: { readonly from: number; readonly to: number } = { from: SINGLE_PORTS_FROM, to: BLOCKS_FROM },
): Promise<number[]> {
  const low = range.from;
  const high = Math.min(ephemeralStart(), range.to);
  const held: net.Server[] = [];
  for (let tries = 0; held.length < n && tries < 50 * n; tries++) {
    const port = high - low >= 1000 ? low + Math.floor(Math.random() * (high - low)) : 0;
    const srv = await holdPort(port);
    if (srv !== null) held.push(srv);
  }
  if (held.length < n) throw new Error(`no ${n} free loopback ports found`);
  const ports = held.map((srv) => (srv.address() as net.AddressInfo).port);
  await release(held);
  return ports;
}

/** The first of `count` consecutive loopback ports that are free right now (a test's service ports). */
export async function freeLoopbackBlock(count: number): Promise<number> {
  const room = ephemeralStart() - BLOCKS_FROM - count;
  if (room < 0) throw new Error(`no room for ${count} consecutive ports below the ephemeral range`);
  for (let attempt = 0; attempt < 20; attempt++) {
    const start = BLOCKS_FROM + Math.floor(Math.random() * (room + 1));
    let free = 0;
    // One at a time: a block of a thousand held at once could reach the process's file limit.
    while (free < count) {
      const srv = await holdPort(start + free);
      if (srv === null) break;
      await release([srv]);
      free += 1;
    }
    if (free === count) return start;
  }
  throw new Error(`no block of ${count} free loopback ports found`);
}

/**
 * The controller's flags in a live test system: following `simulatorUrl`'s event stream, group
 * external, the admin API on `adminPort` (0: off), and short waits (debounce, backoff, hard stop)
 * so that tests see changes within a second.
 */
export function liveFlags(simulatorUrl: string, adminPort: number): string[] {
  return [
    '-m',
    simulatorUrl,
    '--sse',
    '--group',
    'external',
    '--admin-port',
    String(adminPort),
    '--debounce-quiet',
    '0.05',
    '--debounce-max-wait',
    '0.5',
    '--max-backoff',
    '2',
    '--hard-stop-after',
    '5',
  ];
}

/**
 * `simulator`: more simulator options (e.g. timeScale, to run Marathon's clock). `admin`: the admin API
 * on a free port (else it is off). The ports are picked once the simulator's task listeners are up:
 * picked before, a task could take one of them.
 */
export async function startLive(opts: {
  apps: unknown[];
  flags?: string[];
  logger: Logger;
  ports?: DemoPorts;
  simulator?: SimulatorOptions;
  admin?: boolean;
}): Promise<LiveSystem> {
  const configDir = findConfigDir();
  const sim = await Simulator.start({ ...opts.simulator, apps: opts.apps, serveTasks: true });
  const free = (await freeLoopbackPorts(5)) as [number, number, number, number, number];
  const ports = opts.ports ?? { http: free[0], https: free[1], stats: free[2], appid: free[3] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marathon-lb-live-'));
  const files = prepareDemoFiles(dir, configDir, ports);
  const argv = [...liveFlags(sim.url, opts.admin === true ? free[4] : 0), ...files.flags, ...(opts.flags ?? [])];
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

/** One HTTP GET, bounded by `timeoutMs`: over a fresh connection (no keep-alive) unless an `agent` is given. */
export function httpGet(
  port: number,
  host: string,
  timeoutMs = 2000,
  pathName = '/',
  agent: http.Agent | false = false,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: pathName, headers: { host }, agent, timeout: timeoutMs },
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
