import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { appTemplateText } from '../../src/model/templateLabels';
import { freeLoopbackPort, httpGet } from '../../src/demo/live';
import { describeWithHaproxy, startHaproxy } from '../support/haproxy';

/*
 * A template label must not send traffic to the load balancer itself (its stats, Lua and admin
 * ports listen there). HAProxy resolves a server's address with the C library, which reads more
 * spellings of 127.0.0.1 than the dotted quad: each one below is first shown to reach a server on
 * 127.0.0.1 through a real HAProxy, then shown to be refused as a label.
 */
const SPELLINGS = ['127.1', '2130706433', '0x7f.1', '0177.0.0.1', '[::ffff:7f00:1]', '::ffff:7f00:1'];

describeWithHaproxy('loopback spellings in template labels (real HAProxy)', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('the load balancer itself\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test.each(SPELLINGS)('server s %s reaches 127.0.0.1 through HAProxy, and is refused as a label', async (host) => {
    const front = await freeLoopbackPort();
    const serverLine = `  server s ${host}:${port}\n`;
    const haproxy = await startHaproxy({
      config: `defaults\n  mode http\n  timeout client 2s\n  timeout server 2s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:${front}\n  default_backend b\nbackend b\n${serverLine}`,
      waitForPort: front,
    });
    try {
      const res = await httpGet(front, 'lb.example.com');
      expect(res.body).toBe('the load balancer itself\n');
    } finally {
      await haproxy.stop();
    }
    const verdict = appTemplateText('BACKEND_HTTP_OPTIONS', serverLine);
    expect(typeof verdict === 'string' ? verdict : verdict.error).toMatch(/the load balancer itself/);
  });
});
