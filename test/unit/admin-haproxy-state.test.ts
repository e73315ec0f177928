import * as fs from 'node:fs';
import * as path from 'node:path';
import { HaproxyState } from '../../src/admin/haproxyState';
import { StatReader, parseStatSample, serverState, type StatSample } from '../../src/haproxy/stats';
import { stateReader } from '../../src/haproxy/stateReader';
import { err, ok } from '../../src/result';
import fc from 'fast-check';
import { REPO_ROOT } from '../support/paths';

/** `show stat` of a real HAProxy 2.6.12: checks failing at layer 7 and 4, MAINT, DRAIN, a server added through the runtime API, 4 requests (one 5xx). */
const REAL = fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'haproxy-show-stat-2.6.csv'), 'utf8');
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function sample(at: number, text = REAL): StatSample {
  const s = parseStatSample(text, at);
  if (!s.ok) throw new Error(s.error);
  return s.value;
}

/** A minimal `show stat` with one frontend, one backend and its servers, counters as given. */
function csv(req: number, err5xx: number, servers: readonly [string, string][] = [['s1', 'UP']], scur = 0): string {
  const head =
    '# pxname,svname,scur,stot,status,lastchg,type,check_status,check_code,check_duration,hrsp_5xx,req_tot,check_desc,mode,';
  return [
    head,
    `fe,FRONTEND,${scur},${req},OPEN,,0,,,,${err5xx},${req},,http,`,
    ...servers.map(([n, st]) => `be,${n},0,0,${st},12,2,L7OK,200,1,0,,Layer7 check passed,http,`),
    `be,BACKEND,${scur},${req},UP,12,1,,,,${err5xx},${req},,http,`,
    '',
  ].join('\n');
}

describe('show stat parsing (real HAProxy 2.6 output)', () => {
  test('servers with their state, last check and change; frontends and backends with sessions and counters', () => {
    const s = sample(T0);
    expect(
      s.servers.map((v) => [v.backend, v.name, v.state, v.checked, v.checkStatus, v.checkCode, v.checkDescription]),
    ).toEqual([
      ['web_10000', 'down_l7', 'DOWN', true, 'L7STS', 503, 'Layer7 wrong status'],
      ['web_10000', 'down_l4', 'DOWN', true, 'L4CON', null, 'Layer4 connection problem'],
      ['web_10000', 'maint', 'MAINT', true, '', null, ''],
      ['web_10000', 'nocheck', 'DRAIN', true, '', null, ''],
      ['web_10000', 'runtime_added', 'UP', false, '', null, ''], // added through the runtime API: listed like the others
      ['tcp_10001', 't1', 'UP', false, '', null, ''],
    ]);
    expect(s.proxies).toEqual([
      {
        name: 'marathon_http_in',
        kind: 'frontend',
        status: 'OPEN',
        currentSessions: 0,
        requestsTotal: 4,
        http5xxTotal: 1,
      },
      { name: 'web_10000', kind: 'backend', status: 'UP', currentSessions: 0, requestsTotal: 4, http5xxTotal: 1 },
      { name: 'tcp_10001', kind: 'frontend', status: 'OPEN', currentSessions: 0, requestsTotal: 0, http5xxTotal: 0 },
      { name: 'tcp_10001', kind: 'backend', status: 'UP', currentSessions: 0, requestsTotal: 0, http5xxTotal: 0 },
    ]);
    expect(s.servers.find((v) => v.name === 'runtime_added')).toMatchObject({
      status: 'no check',
      http5xxTotal: 1,
      secondsSinceChange: expect.any(Number),
    });
  });

  test.each([
    ['UP', 'UP', true],
    ['UP 1/3', 'UP', true],
    ['DOWN', 'DOWN', true],
    ['DOWN 1/2', 'DOWN', true],
    ['no check', 'UP', false],
    ['MAINT', 'MAINT', true],
    ['MAINT (via)', 'MAINT', true],
    ['MAINT(resolution)', 'MAINT', true],
    ['DRAIN', 'DRAIN', true],
    ['NOLB', 'NOLB', true],
    ['DRAIN (agent)', 'DRAIN', true],
    ['what', 'UNKNOWN', true],
  ] as const)('status %j is %s (checked: %s)', (status, state, checked) => {
    expect(serverState(status)).toEqual({ state, checked });
  });

  // An audit: a server's last check text is its own HTTP answer's reason phrase, which HAProxy quotes
  // when it holds a comma or a quote; split at its commas, it wrote the check description in /status.
  test('a field HAProxy quoted (its last check text) is one field, read whole: the columns after it stay theirs', () => {
    const head =
      '# pxname,svname,scur,stot,status,lastchg,type,check_status,check_code,check_duration,hrsp_5xx,req_tot,last_chk,check_desc,mode,';
    const row = (name: string, lastChk: string): string =>
      `be,${name},0,0,DOWN,12,2,L7STS,503,1,0,,${lastChk},Layer7 wrong status,http,`;
    const text = [
      head,
      row('forged', '"0,1,2,3,4,5,6,7,8,FORGED <b>check passed</b>,x"'),
      row('quotes', '"a,b,""c"'),
      row('plain', 'Service Unavailable'),
      `be,BACKEND,0,0,UP,12,1,,,,0,0,,,http,`,
      '',
    ].join('\n');
    const s = sample(T0, text);
    expect(s.servers.map((v) => [v.name, v.checkStatus, v.checkCode, v.checkDescription])).toEqual([
      ['forged', 'L7STS', 503, 'Layer7 wrong status'],
      ['quotes', 'L7STS', 503, 'Layer7 wrong status'],
      ['plain', 'L7STS', 503, 'Layer7 wrong status'],
    ]);
    // Read piece by piece, split inside the quoted fields, it is the same.
    const reader = new StatReader(T0);
    for (let i = 0; i < text.length; i += 7) reader.push(text.slice(i, i + 7));
    const pieces = reader.end();
    expect(pieces.ok && pieces.value.servers.map((v) => v.checkDescription)).toEqual([
      'Layer7 wrong status',
      'Layer7 wrong status',
      'Layer7 wrong status',
    ]);
  });

  test('a check in progress ("* L7OK") keeps its code; an answer that is not show stat is an error naming it', () => {
    const s = sample(T0, csv(0, 0).replace(',L7OK,', ',* L7OK,'));
    expect(s.servers[0]!.checkStatus).toBe('L7OK');
    expect(parseStatSample('Unknown command.\n', T0)).toEqual({
      ok: false,
      error: 'unexpected answer to "show stat": Unknown command.',
    });
  });

  test('read piece by piece, split anywhere (lines, multibyte characters), it is the sample of the whole answer', () => {
    const whole = sample(T0);
    const view = (s: StatSample) => ({
      proxies: s.proxies,
      servers: s.servers,
      byState: s.byState,
      found: s.servers.map((v) => s.server(v.backend, v.name)),
    });
    const texts = [REAL, REAL.replace('Layer7 wrong status', 'Layer7 wrong status é→ü'), REAL.replace(/\n/g, '\r\n')];
    fc.assert(
      fc.property(fc.constantFrom(...texts), fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const reader = new StatReader(T0);
        let from = 0;
        for (const c of [...at, text.length]) {
          reader.push(text.slice(from, c));
          from = c;
        }
        const r = reader.end();
        const direct = parseStatSample(text, T0);
        expect(r).toMatchObject({ ok: true });
        expect(r.ok && direct.ok && view(r.value)).toEqual(direct.ok && view(direct.value));
        if (text === REAL) expect(r.ok && view(r.value)).toEqual(view(whole));
      }),
      { numRuns: 300 },
    );
    const refused = new StatReader(T0);
    for (const piece of ['\n  Unknown', ' command.\n', 'more\n']) refused.push(piece);
    expect(refused.end()).toEqual({ ok: false, error: 'unexpected answer to "show stat": Unknown command.' });
    expect(new StatReader(T0).end()).toEqual({ ok: false, error: 'unexpected answer to "show stat": (empty)' });
  });

  test('a server is read from its row when asked for: one that is not listed is undefined', () => {
    const s = sample(T0);
    expect(s.server('web_10000', 'maint')).toMatchObject({ state: 'MAINT', backend: 'web_10000', name: 'maint' });
    expect(s.server('web_10000', 'gone')).toBeUndefined();
    expect(s.server('tcp_10001', 'down_l7')).toBeUndefined();
    expect(s.byState).toEqual({ UP: 2, DOWN: 2, MAINT: 1, DRAIN: 1, NOLB: 0, UNKNOWN: 0 });
  });

  test('the reader sends one show stat, and nothing while HAProxy is not running', async () => {
    const sent: string[] = [];
    let running = false;
    const read = stateReader({
      channel: { send: (c) => (sent.push(c), Promise.resolve(ok(REAL))) },
      running: () => running,
      now: () => T0,
    });
    expect(await read()).toEqual({ ok: false, error: 'HAProxy is not running' });
    expect(sent).toEqual([]);
    running = true;
    const r = await read();
    expect(r.ok && r.value.servers.length).toBe(6);
    expect(sent).toEqual(['show stat']);
  });

  test('a channel that streams: the reader parses the pieces as they come; a failed read is an error naming show stat', async () => {
    const pieces = [REAL.slice(0, 1000), REAL.slice(1000, 1001), REAL.slice(1001)];
    let fail = false;
    const read = stateReader({
      channel: {
        send: () => Promise.reject(new Error('not used when the channel streams')),
        stream: (c, onText) => {
          expect(c).toBe('show stat');
          if (fail) return Promise.resolve(err('HAProxy socket gave no complete answer'));
          pieces.forEach(onText);
          return Promise.resolve(ok(undefined));
        },
      },
      running: () => true,
      now: () => T0,
    });
    const r = await read();
    expect(r.ok && r.value.servers).toEqual(sample(T0).servers);
    fail = true;
    expect(await read()).toEqual({ ok: false, error: 'show stat: HAProxy socket gave no complete answer' });
  });

  // Found by a soak test: a dump the master cut when it re-executed for a reload (950 rows of 2 000)
  // was taken whole, and the history of the backends it lacked thrown away.
  test('an answer without its closing empty line was cut short: an error, not a sample of fewer proxies', async () => {
    let answer = REAL.slice(0, Math.floor(REAL.length / 2));
    const read = stateReader({
      channel: {
        send: () => Promise.reject(new Error('not used when the channel streams')),
        stream: (_c, onText) => (onText(answer), Promise.resolve(ok(undefined))),
      },
      running: () => true,
      now: () => T0,
    });
    expect(await read()).toEqual({ ok: false, error: 'show stat: the answer was cut short (HAProxy reloading?)' });
    answer = REAL.slice(0, REAL.lastIndexOf('\n', REAL.length - 3) + 1); // cut at a row's end
    expect(await read()).toEqual({ ok: false, error: 'show stat: the answer was cut short (HAProxy reloading?)' });
    answer = REAL;
    expect((await read()).ok).toBe(true);
  });
});

describe('HaproxyState', () => {
  const make = (now: () => number) =>
    new HaproxyState({ now, enabled: true, intervalMs: 2000, historyStepMs: 10_000, historyPoints: 3 });

  test('per server: HAProxy state, last check and when it changed; servers by state', () => {
    let now = T0;
    const h = make(() => now);
    h.observe({ ok: true, value: sample(T0) });
    now = T0 + 500;
    expect(h.server('web_10000', 'down_l7')).toEqual({
      state: 'DOWN',
      status: 'DOWN',
      checked: true,
      currentSessions: 0,
      http5xxTotal: 0,
      check: { status: 'L7STS', code: 503, description: 'Layer7 wrong status', durationMs: 1, passed: false },
      lastChangeAt: new Date(T0 - sample(T0).servers[0]!.secondsSinceChange! * 1000).toISOString(),
      secondsSinceChange: sample(T0).servers[0]!.secondsSinceChange! + 0.5,
    });
    expect(h.server('web_10000', 'runtime_added')).toMatchObject({ state: 'UP', checked: false, check: null });
    expect(h.server('web_10000', 'gone')).toBeNull();
    expect(h.serversByState()).toEqual({ UP: 2, DOWN: 2, MAINT: 1, DRAIN: 1, NOLB: 0, UNKNOWN: 0 });
    expect(h.status()).toMatchObject({
      enabled: true,
      readAt: new Date(T0).toISOString(),
      secondsSinceRead: 0.5,
      error: null,
      intervalSeconds: 2,
    });
    expect(h.status().frontends.map((f) => f.name)).toEqual(['marathon_http_in', 'tcp_10001']);
  });

  test('the interval shown is the longer of the one asked and the spacing a big read asks for', () => {
    const now = (): number => T0;
    const rows = (s: StatSample): number => s.proxies.length + s.servers.length;
    const h = new HaproxyState({ now, enabled: true, intervalMs: 2000, spacingMs: (s) => rows(s) * 1000 });
    expect(h.status().intervalSeconds).toBe(2); // nothing read yet
    h.observe({ ok: true, value: sample(T0, csv(1, 0)) }); // 3 rows: 3 s
    expect(h.status().intervalSeconds).toBe(3);
    h.observe({ ok: true, value: sample(T0, csv(1, 0, [])) }); // 2 rows: 2 s, as asked
    expect(h.status().intervalSeconds).toBe(2);
    h.observe({ ok: false, error: 'HAProxy is not running' });
    expect(h.status().intervalSeconds).toBe(2);
  });

  test('rates from counter deltas between reads; a reload (counters back to 0) is no negative rate; history one point per step, a ring', () => {
    let now = T0;
    const h = make(() => now);
    const read = (dt: number, req: number, err: number, scur = 0): void => {
      now += dt;
      h.observe({ ok: true, value: sample(now, csv(req, err, [['s1', 'UP']], scur)) });
    };
    read(0, 100, 1);
    expect(h.backend('be')).toMatchObject({
      requestsPerSecond: 0,
      http5xxPerSecond: 0,
      requestsTotal: 100,
      history: [{ requestsPerSecond: 0 }],
    });
    read(2000, 140, 3, 7);
    expect(h.backend('be')).toMatchObject({
      currentSessions: 7,
      requestsPerSecond: 20,
      http5xxPerSecond: 1,
      requestsTotal: 140,
      http5xxTotal: 3,
    });
    expect(h.backend('be')!.history).toHaveLength(1); // 2 s < the 10 s step
    read(8000, 300, 3);
    expect(h.backend('be')!.history.map((p) => [p.at, p.requestsPerSecond, p.http5xxPerSecond])).toEqual([
      [new Date(T0).toISOString(), 0, 0],
      [new Date(T0 + 10_000).toISOString(), 20, 0.2], // over the whole step: 200 requests, 2 errors in 10 s
    ]);
    read(2000, 10, 0); // reloaded: the new worker counts from 0
    expect(h.backend('be')).toMatchObject({ requestsPerSecond: 5, http5xxPerSecond: 0 });
    read(8000, 30, 0);
    read(10_000, 40, 0);
    read(10_000, 50, 0);
    expect(h.backend('be')!.history.map((p) => p.at)).toEqual(
      [T0 + 20_000, T0 + 30_000, T0 + 40_000].map((t) => new Date(t).toISOString()),
    );
  });

  test('history points without traffic read as zeros at their time; sessions alone are traffic', () => {
    let now = T0;
    const h = make(() => now);
    const read = (dt: number, req: number, scur: number): void => {
      now += dt;
      h.observe({ ok: true, value: sample(now, csv(req, 0, [['s1', 'UP']], scur)) });
    };
    read(0, 100, 0);
    read(10_000, 100, 4); // no requests in the step, 4 sessions open
    read(10_000, 100, 0);
    expect(h.backend('be')!.history).toEqual(
      [0, 4, 0].map((currentSessions, i) => ({
        at: new Date(T0 + i * 10_000).toISOString(),
        currentSessions,
        requestsPerSecond: 0,
        http5xxPerSecond: 0,
      })),
    );
  });

  test('a failed read keeps the last view a few reads (a reload), then clears it (not known) but keeps the time of the last good one; proxies gone with a reload are dropped', () => {
    let now = T0;
    const h = make(() => now);
    h.observe({ ok: true, value: sample(now) });
    now += 2000;
    // The read that meets a reload fails: the view stays, with the error and its read time (found by
    // a soak test: servers and metrics went blank at every reload).
    h.observe({ ok: false, error: 'show stat: nothing listens on m.sock (ECONNREFUSED)' });
    expect(h.serversByState()).toEqual(sample(T0).byState);
    expect(h.status()).toMatchObject({
      readAt: new Date(T0).toISOString(),
      error: expect.stringMatching(/ECONNREFUSED/),
    });
    expect(h.backend('web_10000')).not.toBeNull();
    now += 9000; // 11 s after the last good read: past three intervals and 10 s
    h.observe({ ok: false, error: 'HAProxy is not running' });
    expect(h.server('web_10000', 'down_l7')).toBeNull();
    expect(h.backend('web_10000')).toBeNull();
    expect(h.serversByState()).toBeNull();
    expect(h.status()).toMatchObject({
      serversByState: null, // unknown, not zero servers in every state
      readAt: new Date(T0).toISOString(),
      secondsSinceRead: 11,
      error: 'HAProxy is not running',
      frontends: [],
      backends: [],
    });
    now += 2000;
    h.observe({ ok: true, value: sample(now, csv(1, 0)) });
    expect(h.status().backends.map((b) => b.name)).toEqual(['be']);
    expect(h.backend('web_10000')).toBeNull();
  });

  test('silent for: since the last answer; running and never answered (an adopted, wedged HAProxy), since its first failed read; not running, none', () => {
    let now = T0;
    const h = make(() => now);
    h.observe({ ok: false, error: 'HAProxy is not running' }); // before its first start
    now += 60_000;
    expect(h.silentForMs()).toBeNull();
    h.observe({ ok: false, error: 'show stat: no answer within 5 s' }); // adopted, its worker stopped
    now += 31_000;
    h.observe({ ok: false, error: 'show stat: no answer within 5 s' });
    expect(h.silentForMs()).toBe(31_000);
    h.observe({ ok: false, error: 'HAProxy is not running' }); // gone: the restart's bound, not this one
    expect(h.silentForMs()).toBeNull();
    h.observe({ ok: true, value: sample(now) });
    expect(h.silentForMs()).toBeNull();
    now += 40_000;
    h.observe({ ok: false, error: 'show stat: no answer within 5 s' });
    expect(h.silentForMs()).toBe(40_000);
  });
});
