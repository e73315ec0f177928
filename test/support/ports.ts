import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 now, below the kernel's ephemeral range: a port the kernel picked
 * (`listen(0)`) is one it may also give an outgoing connection's local end — another test's, or the
 * controller's own to the simulator — between the pick and the bind (a CI run lost HAProxy's HTTPS
 * port so). Below that range only another caller of this helper could take it, so each Jest worker
 * walks its own slice of the range, from a random start, and no process hands a port out twice.
 * Loopback only. A caller that still cannot bind should ask again rather than fail the test.
 */
export async function freePort(): Promise<number> {
  const slice = ownSlice();
  if (slice === undefined) return kernelPickedPort();
  for (let tries = 0; tries < slice.size; tries++) {
    const port = slice.first + ((slice.cursor++ + slice.offset) % slice.size);
    if (handedOut.has(port)) continue;
    if (await bindable(port)) return (handedOut.add(port), port);
  }
  return kernelPickedPort();
}

interface PortSlice {
  readonly first: number;
  readonly size: number;
  readonly offset: number;
  cursor: number;
}
const handedOut = new Set<number>();
let slice: PortSlice | null | undefined;

/** This process's part of the ports below the ephemeral range; undefined when that range starts too low. */
function ownSlice(): PortSlice | undefined {
  if (slice === undefined) {
    // 16000 and up: the simulator's service ports count up from 10000.
    const below = ephemeralRange()[0];
    const first = Math.max(16000, below - 12768);
    const workers = 8;
    const worker = (Number(process.env.JEST_WORKER_ID) || 1) % workers;
    const size = Math.floor((below - first) / workers);
    slice =
      size < 64 ? null : { first: first + worker * size, size, offset: Math.floor(Math.random() * size), cursor: 0 };
  }
  return slice ?? undefined;
}

/** The kernel's [low, high] local port range for outgoing connections (Linux's default when unreadable). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // not Linux, or /proc not mounted
  }
  return [32768, 60999];
}

/** Whether 127.0.0.1:port can be listened on now (nothing holds it). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel picked on 127.0.0.1 (listen on 0, read it, close). */
function kernelPickedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: listening socket has no TCP address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/**
 * A loopback port no test helper hands out and the kernel never assigns, for a test that asserts
 * nothing listens there: above the ephemeral range (and the helpers' ranges below it), free now.
 * Picked in the shared ranges, another test running beside could bind it and fail that assertion.
 */
export async function unclaimedLoopbackPort(): Promise<number> {
  const high = ephemeralRange()[1];
  const from = Math.max(high + 1, 61000);
  if (from > 65000) return kernelPickedPort(); // the kernel may assign any port: no range is unclaimed
  for (let tries = 0; tries < 100; tries++) {
    const port = from + Math.floor(Math.random() * (65000 - from));
    if (!(await accepting(port))) return port;
  }
  throw new Error('no unclaimed loopback port found');
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
