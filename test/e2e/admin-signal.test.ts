import { adminSignalUrl, SIGNAL_HEADER, type AdminServer } from '../../src/admin/server';
import { startStubAdmin } from '../support/adminStack';

/**
 * The admin API's `POST /_mlb_signal/hup|usr1`, which HAProxy's Lua asks instead of running `kill`
 * (config/lua/signalmlb.lua), over real HTTP on loopback.
 */
describe('admin API: the signals HAProxy asks for', () => {
  const servers: AdminServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  async function admin(opts: { token?: string; signals?: string[] }): Promise<AdminServer> {
    const server = await startStubAdmin(opts);
    servers.push(server);
    return server;
  }

  const ask = async (
    url: string,
    init: { method?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: string }> => {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  };

  test('POST with the header takes the signal, with --admin-token set too (the Lua has no token); the answer is the Lua’s', async () => {
    const signals: string[] = [];
    const { url } = await admin({ token: 'adm-0c4e9a7d', signals });
    const headers = { [SIGNAL_HEADER]: '1' };
    expect(await ask(`${url}/_mlb_signal/hup`, { method: 'POST', headers })).toEqual({
      status: 200,
      body: 'Sent SIGHUP signal to marathon-lb\n',
    });
    expect(await ask(`${url}/_mlb_signal/usr1`, { method: 'POST', headers })).toEqual({
      status: 200,
      body: 'Sent SIGUSR1 signal to marathon-lb\n',
    });
    expect(signals).toEqual(['hup', 'usr1']);
    expect((await ask(`${url}/status`)).status).toBe(401); // the token still guards the data
  });

  test('a GET, or a POST without the header (what a web page can send), signals nothing', async () => {
    const signals: string[] = [];
    const { url } = await admin({ signals });
    expect(await ask(`${url}/_mlb_signal/hup`)).toMatchObject({ status: 405 });
    expect(await ask(`${url}/_mlb_signal/usr1`, { method: 'POST' })).toEqual({
      status: 403,
      body: `forbidden: /_mlb_signal/usr1 needs the ${SIGNAL_HEADER} header\n`,
    });
    expect(signals).toEqual([]);
  });

  test('without a signal handler the routes do not exist', async () => {
    const { url } = await admin({});
    expect(await ask(`${url}/_mlb_signal/hup`, { method: 'POST', headers: { [SIGNAL_HEADER]: '1' } })).toMatchObject({
      status: 404,
    });
  });

  test('the URL HAProxy is given: loopback for every address, an IPv4 bind as it is, none the Lua cannot reach', () => {
    expect(adminSignalUrl('127.0.0.1', 9191)).toBe('http://127.0.0.1:9191');
    expect(adminSignalUrl('0.0.0.0', 9191)).toBe('http://127.0.0.1:9191');
    expect(adminSignalUrl('::', 9191)).toBe('http://127.0.0.1:9191');
    expect(adminSignalUrl('10.0.0.5', 9191)).toBe('http://10.0.0.5:9191');
    expect(adminSignalUrl('::1', 9191)).toBeUndefined();
    expect(adminSignalUrl('localhost', 9191)).toBeUndefined();
    expect(adminSignalUrl('127.0.0.1', 0)).toBeUndefined();
  });
});
