import * as net from 'node:net';
import {
  adminConnectionCap,
  MAX_DATA_RESPONSES,
  STATUS_SHARED_MS,
  startAdminServer,
  type AdminServer,
} from '../../src/admin/server';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { waitFor } from '../support/wait';

/*
 * The admin API under a flood of its data routes (found by an audit: 1 000 connections pipelining
 * /status took a 10 000-app controller to 3.6 GB and /healthz to 30 s). Real HTTP on loopback; the
 * readers that hold responses are sockets that never read a body bigger than loopback buffers.
 */

const BIG = 16 << 20; // past what the kernel buffers for one loopback socket (a few MiB each way)

interface Counted {
  readonly admin: AdminServer;
  readonly statusCalls: () => number;
  readonly metricsCalls: () => number;
  readonly clock: { ms: number };
  readonly state: { version: number };
  readonly logs: readonly LogLine[];
}

describe('admin API under a flood of /status and /metrics (real HTTP, loopback)', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function server(statusBytes: number, metricsBytes: number, maxConnections?: number): Promise<Counted> {
    let statusCalls = 0;
    let metricsCalls = 0;
    const clock = { ms: 0 };
    const state = { version: 0 };
    const logs: LogLine[] = [];
    const metricsText = 'x'.repeat(metricsBytes);
    const admin = await startAdminServer({
      port: 0,
      metrics: {
        contentType: 'text/plain',
        text: () => {
          metricsCalls++;
          return Promise.resolve(metricsText);
        },
      },
      status: {
        status: () => {
          statusCalls++;
          return { call: statusCalls, blob: 'y'.repeat(statusBytes) };
        },
        version: () => state.version,
      },
      logger: memoryLogger(logs),
      now: () => clock.ms,
      ...(maxConnections === undefined ? {} : { maxConnections }),
    });
    cleanup.push(() => admin.close());
    return { admin, statusCalls: () => statusCalls, metricsCalls: () => metricsCalls, clock, state, logs };
  }

  /** A socket that sends `requests` GETs of `path` at once (pipelined) and never reads an answer. */
  function stalledReader(url: string, path: string, requests = 1): net.Socket {
    const { port } = new URL(url);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.pause();
    socket.on('error', () => undefined); // destroyed by the test
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(requests));
    cleanup.push(() => socket.destroy());
    return socket;
  }

  const get = async (url: string): Promise<{ status: number; retryAfter: string | null; body: string }> => {
    const res = await fetch(url, { signal: AbortSignal.timeout(10000) });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
  };

  test('requests for /status share one body while nothing changes: one serialization for 200 at once; a change or STATUS_SHARED_MS makes it anew', async () => {
    const s = await server(1000, 10);
    const call = async (): Promise<number> =>
      (JSON.parse((await get(`${s.admin.url}/status`)).body) as { call: number }).call;
    const answers = await Promise.all(Array.from({ length: 200 }, () => get(`${s.admin.url}/status`)));
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    expect(s.statusCalls()).toBe(1);
    expect(new Set(answers.map((a) => (JSON.parse(a.body) as { call: number }).call))).toEqual(new Set([1]));

    s.clock.ms = STATUS_SHARED_MS - 1;
    expect(await call()).toBe(1);
    s.state.version++; // what it shows changed: a reader after the change never gets the body from before
    expect(await call()).toBe(2);
    expect(await call()).toBe(2);
    s.clock.ms = 2 * STATUS_SHARED_MS - 1; // its times are a second old
    expect(await call()).toBe(3);
    s.clock.ms = 0; // a clock that went back: made anew, never served from the future
    expect(await call()).toBe(4);
  });

  /** Polls GET `path` until it answers `status` (the stalled requests reach the server in their own time). */
  async function until(
    url: string,
    status: number,
  ): Promise<{ status: number; retryAfter: string | null; body: string }> {
    const deadline = Date.now() + 10000;
    for (;;) {
      const answer = await get(url);
      if (answer.status === status || Date.now() > deadline) return answer;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test(`past ${MAX_DATA_RESPONSES} responses being sent, /status and /metrics answer 503 with Retry-After; /healthz and the page still answer; it recovers when the readers go`, async () => {
    const s = await server(BIG, 10);
    const readers = Array.from({ length: MAX_DATA_RESPONSES }, () => stalledReader(s.admin.url, '/status'));
    const busy = await until(`${s.admin.url}/metrics`, 503);
    expect(busy.status).toBe(503);
    expect(busy.retryAfter).toBe('1');
    expect(busy.body).toBe(`busy: ${MAX_DATA_RESPONSES} responses of /status and /metrics are being sent; try again\n`);
    expect((await get(`${s.admin.url}/status`)).status).toBe(503);
    expect((await get(`${s.admin.url}/healthz`)).status).toBe(200);
    expect((await get(`${s.admin.url}/`)).status).toBe(200);
    expect(s.statusCalls()).toBe(1); // one body, however many sockets are sending it

    for (const r of readers) r.destroy();
    expect((await until(`${s.admin.url}/metrics`, 200)).status).toBe(200);
    const status = await get(`${s.admin.url}/status`);
    expect(status.status).toBe(200);
    expect(status.body).toHaveLength(BIG + '{"call":1,"blob":""}\n'.length); // compact: past the indented size
  });

  test('past its cap (a quarter of the open files limit), the longest idle connection is closed for a new one: /healthz answers at once; logged', async () => {
    // Idle connections held every file descriptor the controller had: no change was applied (helper 74).
    // Refusing new ones instead kept /healthz unanswered while 1 024 silent sockets stayed (an audit).
    expect([undefined, 64, 256, 20_000, 1 << 20].map(adminConnectionCap)).toEqual([1024, 16, 64, 1024, 1024]);
    const cap = adminConnectionCap(256);
    const s = await server(10, 10, cap);
    const { port } = new URL(s.admin.url);
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
        cleanup.push(() => socket.destroy());
      });
    const idle: net.Socket[] = [];
    for (let i = 0; i < cap; i++) idle.push(await open());
    const closed = new Promise((resolve) => idle[0]!.once('close', resolve));
    expect((await get(`${s.admin.url}/healthz`)).status).toBe(200);
    await closed; // the oldest, by the server
    expect(idle.slice(1).every((socket) => !socket.destroyed)).toBe(true);
    await waitFor(
      'the close logged',
      () => s.logs.some((l) => /connection\(s\) closed to keep 64 open/.test(l.msg)),
      2000,
    );
    expect(s.logs.find((l) => /closed to keep/.test(l.msg))).toMatchObject({ level: 'warn' });
  });

  test('a connection that sends nothing is closed after the 10 s a request head may take', async () => {
    const s = await server(10, 10);
    const { port } = new URL(s.admin.url);
    const silent = net.connect(Number(port), '127.0.0.1');
    silent.on('error', () => undefined);
    cleanup.push(() => silent.destroy());
    // Read what the server says: a socket that leaves a 408 unread never sees the close behind it.
    let said = '';
    silent.on('data', (chunk: Buffer) => (said += chunk.toString('latin1')));
    const from = Date.now();
    await new Promise((resolve) => silent.once('close', resolve));
    expect(Date.now() - from).toBeGreaterThanOrEqual(9_000);
    expect(said).toMatch(/^HTTP\/1\.1 408 /);
  }, 20_000);

  // A second audit: sockets that pipelined requests and never read their answers stayed busy for good,
  // and each new connection was the one closed: /healthz failed 20 of 20 probes.
  test('past its cap with every connection in the middle of a request, the least recently used is closed: /healthz answers', async () => {
    const s = await server(10, 10, 16);
    const busy: net.Socket[] = []; // each asks for the page 300 times and reads none of it
    for (let i = 0; i < 16; i++) {
      busy.push(stalledReader(s.admin.url, '/', 300));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await get(`${s.admin.url}/healthz`)).status).toBe(200);
    // The reader that never reads sees no end of its paused stream: the server's word for it.
    await waitFor(
      'the close logged',
      () => s.logs.some((l) => /connection\(s\) closed to keep 16 open/.test(l.msg)),
      2000,
    );
    expect(busy).toHaveLength(16);
  });

  test('responses queued behind others on a pipelining socket that dies are counted off too', async () => {
    const s = await server(10, BIG);
    // 16 sockets × 3 pipelined /metrics: each socket's first response stalls, the two behind it wait.
    const pipelining = Array.from({ length: 16 }, () => stalledReader(s.admin.url, '/metrics', 3));
    await until(`${s.admin.url}/status`, 503);
    for (const p of pipelining) p.destroy();
    expect((await until(`${s.admin.url}/status`, 200)).status).toBe(200);

    // Exactly MAX_DATA_RESPONSES - 1 stalled ones leave room for one more: nothing is left counted.
    const before = s.metricsCalls();
    for (let i = 0; i < MAX_DATA_RESPONSES - 1; i++) stalledReader(s.admin.url, '/metrics');
    await waitFor('the stalled /metrics requests', () => s.metricsCalls() === before + MAX_DATA_RESPONSES - 1);
    expect((await get(`${s.admin.url}/status`)).status).toBe(200);
    stalledReader(s.admin.url, '/metrics');
    await waitFor('one more stalled /metrics request', () => s.metricsCalls() === before + MAX_DATA_RESPONSES);
    expect((await until(`${s.admin.url}/status`, 503)).status).toBe(503);
  });
});
