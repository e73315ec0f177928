import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import { MarathonClient, type MarathonLogger } from '../../src/marathon/client';
import { MarathonError } from '../../src/marathon/http';
import { listenOnLoopback } from '../support/listen';

// marathon-lb's requests timeout=(3.05, 46): a connect timeout, and a read timeout that bounds each
// silence of the server, not the whole transfer. Real HTTP over 127.0.0.1, scaled down to ms.

const quiet: MarathonLogger = { warn: () => undefined, info: () => undefined, debug: () => undefined };
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function serve(handler: (res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((_req, res) => handler(res));
  const { port, close } = await listenOnLoopback(server);
  closers.push(close);
  return `http://127.0.0.1:${port}`;
}

async function rejection(p: Promise<unknown>): Promise<MarathonError> {
  try {
    await p;
  } catch (e) {
    return e as MarathonError;
  }
  throw new Error('expected a rejection');
}

/**
 * A loopback port whose accept queue is full (a listener that never accepts, backlog 0, already
 * holding two connections): Linux drops further SYNs, so a connect neither succeeds nor fails.
 */
async function unacceptingPort(): Promise<number> {
  const py = spawn(
    'python3',
    [
      '-c',
      [
        'import socket,sys,time',
        's=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)',
        'print(s.getsockname()[1]); sys.stdout.flush(); time.sleep(60)',
      ].join('\n'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  closers.push(() => void py.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    (py as ChildProcess).once('exit', () => reject(new Error('python3 helper exited')));
  });
  // The first completes its handshake and fills the accept queue (waited for); SYNs after it are dropped.
  for (let i = 0; i < 2; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    closers.push(() => void s.destroy());
    if (i === 0) await new Promise((r) => s.once('connect', r));
  }
  return port;
}

describe('Marathon REST timeouts like marathon-lb (connect, then read between bytes)', () => {
  test('a slow but flowing /v2/apps completes although it takes longer than the read timeout', async () => {
    const url = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const parts = ['{"apps": [', '{"id": "/a", "tasks": []}', ',', '{"id": "/b", "tasks": []}', ']}'];
      const next = (): void => {
        const part = parts.shift();
        if (part === undefined) return void res.end();
        res.write(part);
        setTimeout(next, 120);
      };
      setTimeout(next, 120);
    });
    const client = new MarathonClient({ urls: [url], timeoutMs: 300, connectTimeoutMs: 300, logger: quiet });
    await expect(client.getApps()).resolves.toEqual({
      apps: [
        { id: '/a', tasks: [] },
        { id: '/b', tasks: [] },
      ],
    }); // ~720 ms in all
  });

  test('a silence longer than the read timeout, before the head or within the body, fails the request', async () => {
    const silent = await serve(() => undefined);
    const client = new MarathonClient({ urls: [silent], timeoutMs: 200, connectTimeoutMs: 1000, logger: quiet });
    expect((await rejection(client.getApps())).message).toContain('no response within 200 ms');

    const stalls = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"apps": [');
    });
    const second = new MarathonClient({ urls: [stalls], timeoutMs: 200, connectTimeoutMs: 1000, logger: quiet });
    expect((await rejection(second.getApps())).message).toContain('response not complete within 200 ms of silence');
  });

  test('a connection that is never accepted fails after the connect timeout, not the read timeout', async () => {
    const port = await unacceptingPort();
    const client = new MarathonClient({
      urls: [`http://127.0.0.1:${port}`],
      timeoutMs: 30_000,
      connectTimeoutMs: 250,
      logger: quiet,
    });
    // The message proves which bound fired (the 30 s read timeout is beyond this test's own bound).
    expect((await rejection(client.getApps())).message).toContain('could not connect within 250 ms');
  }, 15_000);
});

describe('failover across Marathon URLs', () => {
  test('a read tries each URL once although the event stream moves on to the next meanwhile', async () => {
    let client: MarathonClient | undefined;
    const hung = await serve(() => client!.reportFailure(hung, 'event stream: no data')); // the stream gives up on it too
    const healthy = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"apps": [{"id": "/a", "tasks": []}]}');
    });
    client = new MarathonClient({ urls: [hung, healthy], timeoutMs: 200, connectTimeoutMs: 1000, logger: quiet });
    await expect(client.getApps()).resolves.toEqual({ apps: [{ id: '/a', tasks: [] }] });
    expect(client.currentUrl()).toBe(healthy);
  });
});
