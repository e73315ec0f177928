/** whyUnbindable against real sockets: a port another listener holds, one it let go, an address not of this host. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { whyUnbindable } from '../../src/haproxy/portHeld';

const HELD = { reason: 'another process holds it', address: false };

describe('whyUnbindable', () => {
  test('another process listens there (any address HAProxy spells), and once it let go', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as net.AddressInfo).port;
    expect(await whyUnbindable('127.0.0.1', port, null)).toEqual(HELD);
    expect(await whyUnbindable('*', port, null)).toEqual(HELD); // `bind *:port` needs every IPv4 address
    expect(await whyUnbindable('ipv4@127.0.0.1', port, null)).toEqual(HELD);
    expect(await whyUnbindable('"127.0.0.1"', port, null)).toEqual(HELD); // a quoted BIND_ADDR, as HAProxy reads it
    await new Promise<void>((r) => holder.close(() => r()));
    expect(await whyUnbindable('127.0.0.1', port, null)).toBeNull();
    expect(await whyUnbindable('*', port, null)).toBeNull();
  });

  test('an address that is not one of this host: refused, but where a bind option lets HAProxy bind it', async () => {
    // Where the kernel lets any process bind any address, HAProxy could bind it too.
    const nonLocalBind = fs.readFileSync('/proc/sys/net/ipv4/ip_nonlocal_bind', 'utf8').trim() === '1';
    expect(await whyUnbindable('192.0.2.1', 10001, null)).toEqual(
      nonLocalBind ? null : { reason: '192.0.2.1 is not an address of this host', address: true },
    );
    expect(await whyUnbindable('192.0.2.1', 10001, 'transparent')).toBeNull();
    expect(await whyUnbindable('192.0.2.1', 10001, 'accept-proxy freebind')).toBeNull();
    // A name HAProxy resolves itself: not looked up here.
    expect(await whyUnbindable('lb.invalid', 10001, null)).toBeNull();
  });
});
