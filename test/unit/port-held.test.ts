/** portHeld against real sockets on loopback: a port another listener holds, and one it let go. */
import * as net from 'node:net';
import { portHeld } from '../../src/haproxy/portHeld';

describe('portHeld', () => {
  test('true while another process listens there (any address HAProxy spells), false once it let go', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as net.AddressInfo).port;
    expect(await portHeld('127.0.0.1', port)).toBe(true);
    expect(await portHeld('*', port)).toBe(true); // HAProxy's `bind *:port` needs every IPv4 address
    expect(await portHeld('ipv4@127.0.0.1', port)).toBe(true);
    await new Promise<void>((r) => holder.close(() => r()));
    expect(await portHeld('127.0.0.1', port)).toBe(false);
    expect(await portHeld('*', port)).toBe(false);
    // Not a local address: nothing against trying.
    expect(await portHeld('192.0.2.1', port)).toBe(false);
  });
});
