import * as http from 'node:http';
import * as zlib from 'node:zlib';
import { requestHttp, tlsTrust } from '../../src/marathon/http';
import { listenOnLoopback } from '../support/listen';

/** A loopback server: `/endless` never stops sending, `/trickle` sends a byte now and then, `/bomb` is 64 MiB of zeros gzipped, `/ok` is small. */
async function server(): Promise<{ url: string; close: () => Promise<void> }> {
  const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
  const s = http.createServer((req, res) => {
    if (req.url === '/endless') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const more = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', more);
      };
      more();
    } else if (req.url === '/trickle') {
      // A byte every 50 ms: never silent for the read timeout, never done.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 50);
      res.once('close', () => clearInterval(t));
    } else if (req.url === '/bomb') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end(bomb);
    } else res.end('{"apps":[]}');
  });
  const l = await listenOnLoopback(s);
  return { url: `http://127.0.0.1:${l.port}`, close: l.close };
}

describe('requestHttp bounds the body it buffers', () => {
  const spec = { method: 'GET', timeoutMs: 10_000, trust: tlsTrust(undefined, false), maxBodyBytes: 4 * 1024 * 1024 };

  test('a body that never ends is cut at the limit, long before the timeout', async () => {
    const s = await server();
    try {
      await expect(requestHttp({ ...spec, url: `${s.url}/endless` })).rejects.toThrow(
        'response body larger than 4194304 bytes',
      );
      expect((await requestHttp({ ...spec, url: `${s.url}/ok` })).body.toString()).toBe('{"apps":[]}');
    } finally {
      await s.close();
    }
  });

  test('a decompression bomb is refused once decompressed past the limit', async () => {
    const s = await server();
    try {
      await expect(requestHttp({ ...spec, url: `${s.url}/bomb` })).rejects.toThrow(
        'response body larger than 4194304 bytes once decompressed',
      );
    } finally {
      await s.close();
    }
  });

  // An audit: zdd held for good, silent, by an answer trickling a byte a second.
  test('totalTimeoutMs bounds an answer that trickles in, however its bytes come; a quick one is read', async () => {
    const s = await server();
    try {
      const from = Date.now();
      await expect(requestHttp({ ...spec, url: `${s.url}/trickle`, totalTimeoutMs: 600 })).rejects.toThrow(
        'response not complete within 600 ms',
      );
      expect(Date.now() - from).toBeLessThan(5_000);
      const ok = await requestHttp({ ...spec, url: `${s.url}/ok`, totalTimeoutMs: 600 });
      expect(ok.body.toString()).toBe('{"apps":[]}');
    } finally {
      await s.close();
    }
  });
});
