import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  checkFdLimits,
  configSections,
  estimateMaxsock,
  hasCapSysResource,
  parseFdFacts,
  parseProcLimits,
  readFdEnvironment,
  type FdFacts,
} from '../../src/haproxy/limits';
import fc from 'fast-check';

const D = 'defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n';
const NO_MW = { masterWorker: false, masterSocket: false };

/** marathon-lb's HAPROXY_HEAD, as shipped: global maxconn 50000, one stats socket, listen stats on :9090. */
const HEAD = fs.readFileSync(path.join(__dirname, '../../config/templates/HAPROXY_HEAD.mustache'), 'utf8');

describe('parseFdFacts', () => {
  it("reads global maxconn (not the defaults one), the stats socket and the binds of marathon-lb's HAPROXY_HEAD", () => {
    const facts = parseFdFacts(HEAD);
    expect(facts).toMatchObject({ maxconn: 50000, statsSockets: 1, listeners: 1, strictLimits: true, splice: false });
    expect(facts.nbthread).toBeUndefined();
  });

  it('expands port ranges and address lists, sees splicing, ulimit-n, fd-hard-limit and no strict-limits', () => {
    const text = `global\n  maxconn 10 # comment\n  nbthread 4\n  ulimit-n 999\n  fd-hard-limit 5000\n  no strict-limits\n${D}  option splice-auto\nfrontend f\n  bind 127.0.0.1:1,127.0.0.1:2\n  bind :8000-8009\n  http-request cache-use x\n`;
    expect(parseFdFacts(text)).toMatchObject({
      maxconn: 10,
      nbthread: 4,
      ulimitN: 999,
      fdHardLimit: 5000,
      strictLimits: false,
      splice: true,
      listeners: 12,
    });
  });

  it('is what the line-by-line reading gives, for any arrangement of sections and lines', () => {
    /** The definition parseFdFacts had before it searched the text: every line of every section. */
    const byLines = (text: string): FdFacts => {
      const lines = text.split('\n');
      const facts: { -readonly [K in keyof FdFacts]: FdFacts[K] } = {
        strictLimits: true,
        splice: false,
        statsSockets: 0,
        listeners: 0,
      };
      const count = (spec: string | undefined): number =>
        spec === undefined || spec === ''
          ? 1
          : spec.split(',').reduce((n, a) => {
              const r = /:(\d+)-(\d+)$/.exec(a);
              return n + (r ? Math.max(1, Number(r[2]) - Number(r[1]) + 1) : 1);
            }, 0);
      for (const section of configSections(lines)) {
        for (let i = section.start + 1; i < section.end; i++) {
          const [k, v] = lines[i]!.replace(/(^|\s)#.*$/, '')
            .trim()
            .split(/\s+/)
            .filter((w) => w !== '');
          if (k === undefined) continue;
          const n = Number(v);
          if (section.kind === 'global') {
            if (k === 'maxconn' && Number.isFinite(n)) facts.maxconn = n;
            else if (k === 'nbthread' && Number.isFinite(n)) facts.nbthread = n;
            else if (k === 'no' && v === 'strict-limits') facts.strictLimits = false;
            else if (k === 'stats' && v === 'socket') facts.statsSockets += 1;
          } else if (k === 'bind') facts.listeners += count(v);
          else if (k === 'option' && /^splice-(auto|request|response)$/.test(v ?? '')) facts.splice = true;
        }
      }
      return facts;
    };
    const piece = fc.constantFrom(
      'global',
      ' global # g',
      'xglobal',
      'defaults',
      'frontend f',
      'listen l',
      'backend b',
      '  maxconn 10',
      '  maxconn 20 # c',
      'maxconn 30',
      '  nbthread 2',
      '  no strict-limits',
      '  stats socket /s',
      '  bind :80',
      'bind :81,:82',
      '\tbind :8000-8003 # r',
      '  bind',
      '  bind#x',
      '  # bind :1',
      '  bind-process 1',
      '  option splice-auto',
      '  option splice-response # s',
      '  option  splice-request',
      '  no option splice-auto',
      '  http-request cache-use splice-auto',
      '',
      '\r',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), fc.boolean(), (lines, trailingNewline) => {
        const text = lines.join('\n') + (trailingNewline ? '\n' : '');
        expect(parseFdFacts(text)).toEqual(byLines(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('splits sections by keyword, not by words that merely start like one', () => {
    const lines = ['global', '  maxconn 1', 'backend b', '  http-request cache-use c', 'cache c', '  total-max-size 4'];
    expect(configSections(lines).map((s) => [s.kind, s.start, s.end])).toEqual([
      ['global', 0, 2],
      ['backend', 2, 4],
      ['cache', 4, 6],
    ]);
  });
});

describe('estimateMaxsock reproduces what HAProxy 2.6.12 asks for ("Cannot raise FD limit to N")', () => {
  // Each N below was read from a real haproxy 2.6.12 refusing to start with maxconn 50000.
  const cases: ReadonlyArray<readonly [string, string, object, number]> = [
    ['bare, no -W', `global\n  maxconn 50000\n  nbthread 1\n${D}`, NO_MW, 100013],
    ['bare, -W', `global\n  maxconn 50000\n  nbthread 1\n${D}`, { masterWorker: true, masterSocket: false }, 100024],
    ['bare, -W -S', `global\n  maxconn 50000\n  nbthread 1\n${D}`, {}, 100035],
    [
      'two stats sockets',
      `global\n  maxconn 50000\n  nbthread 1\n  stats socket /a\n  stats socket /b\n${D}`,
      NO_MW,
      100025,
    ],
    [
      'address list and port range',
      `global\n  maxconn 50000\n  nbthread 1\n${D}frontend a\n  bind 127.0.0.1:1,127.0.0.1:2\n  bind 127.0.0.1:200-209\n`,
      NO_MW,
      100025,
    ],
    [
      'splicing adds maxconn/4 pipes',
      `global\n  maxconn 50000\n  nbthread 1\n${D}frontend a\n  bind 127.0.0.1:1\n  option splice-auto\n`,
      NO_MW,
      125014,
    ],
    [
      'two threads, stats socket, one bind, -W -S',
      `global\n  maxconn 50000\n  nbthread 2\n  stats socket /s expose-fd listeners\n${D}frontend f\n  bind 127.0.0.1:1\n`,
      {},
      100040,
    ],
    [
      'three threads taken from the CPUs (measured with nbthread 3)',
      `global\n  maxconn 100\n  stats socket /s\n${D}frontend f\n  bind 127.0.0.1:1\n`,
      { cpus: 3 },
      243,
    ],
  ];
  it.each(cases)('%s', (_name, text, opts, expected) => {
    const facts = parseFdFacts(text);
    expect(estimateMaxsock(facts, facts.maxconn ?? 0, opts)).toBe(expected);
  });
});

describe('checkFdLimits', () => {
  const env = { hardLimit: 20000, canRaiseHardLimit: false, nrOpen: 1048576 };
  const cfg = `global\n  maxconn 50000\n  nbthread 2\n  stats socket /s expose-fd listeners\n${D}frontend f\n  bind 127.0.0.1:1\n`;

  it('says exactly what to do when maxconn 50000 meets a hard limit of 20000', () => {
    const check = checkFdLimits(cfg, env);
    expect(check).toMatchObject({
      ok: false,
      error: { needed: 100040, limit: 20000, maxconn: 50000, fittingMaxconn: 9980 },
    });
    if (check.ok) throw new Error('expected a failure');
    const { message } = check.error;
    expect(message).toContain('HAProxy will refuse to start');
    expect(message).toContain('`maxconn 50000`');
    expect(message).toContain('ulimit -n 100040');
    expect(message).toContain('LimitNOFILE=100040');
    expect(message).toContain('--ulimit nofile=100040:100040');
    expect(message).toContain('at most 9980 with a custom HAPROXY_HEAD template');
    expect(message.split('\n')).toHaveLength(1);
  });

  it('says that no maxconn helps when the listeners alone need more (20 000 apps with service ports)', () => {
    const binds = Array.from({ length: 20000 }, (_, i) => `frontend f${i}\n  bind *:${10000 + i}\n`).join('');
    const many = `global\n  maxconn 4096\n  nbthread 2\n  stats socket /s expose-fd listeners\n${D}${binds}`;
    const check = checkFdLimits(many, env);
    if (check.ok) throw new Error('expected a failure');
    expect(check.error.fittingMaxconn).toBe(0);
    expect(check.error.message).toContain('`ulimit -n 28231`');
    expect(check.error.message).toContain('A lower `maxconn` cannot make room: the 20000 listeners');
    expect(check.error.message).not.toContain('at most 0');
  });

  it('the fitting maxconn is the largest that fits', () => {
    const fit = cfg.replace('maxconn 50000', 'maxconn 9980');
    expect(checkFdLimits(fit, env)).toEqual({ ok: true, value: { needed: 20000, limit: 20000 } });
    expect(checkFdLimits(cfg.replace('maxconn 50000', 'maxconn 9981'), env).ok).toBe(false);
  });

  it('is fine when HAProxy may raise the hard limit itself (CAP_SYS_RESOURCE)', () => {
    expect(checkFdLimits(cfg, { ...env, canRaiseHardLimit: true })).toMatchObject({
      ok: true,
      value: { needed: 100040, limit: 1048576 },
    });
  });

  it('is fine without a global maxconn (HAProxy sizes it to the limit) or with an unknown limit', () => {
    expect(checkFdLimits(`global\n  nbthread 1\n${D}`, env)).toEqual({ ok: true, value: {} });
    expect(checkFdLimits(cfg, { hardLimit: undefined, canRaiseHardLimit: false })).toEqual({
      ok: true,
      value: { needed: 100040 },
    });
  });

  it('only warns under "no strict-limits"', () => {
    const check = checkFdLimits(cfg.replace('global\n', 'global\n  no strict-limits\n'), env);
    expect(check.ok).toBe(true);
    expect(check.ok && check.value.warning).toMatch(/fewer connections than configured/);
  });

  it('uses ulimit-n as the request and fd-hard-limit as a cap', () => {
    const withUlimit = checkFdLimits(cfg.replace('global\n', 'global\n  ulimit-n 30000\n'), env);
    expect(withUlimit).toMatchObject({ ok: false, error: { needed: 30000, limit: 20000 } });
    expect(!withUlimit.ok && withUlimit.error.message).toContain('lower `ulimit-n`');
    const capped = checkFdLimits(
      cfg.replace('maxconn 50000', 'maxconn 100').replace('global\n', 'global\n  fd-hard-limit 150\n'),
      env,
    );
    expect(capped).toMatchObject({ ok: false, error: { needed: 240, limit: 150 } });
    expect(!capped.ok && capped.error.message).toContain("the config's `fd-hard-limit 150`");
  });
});

describe('reading the fd environment', () => {
  const LIMITS = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max processes             63704                63704                processes ',
    'Max open files            1024                 20000                files     ',
  ].join('\n');

  it('parses the hard column of /proc/self/limits', () => {
    expect(parseProcLimits(LIMITS)).toBe(20000);
    expect(parseProcLimits(LIMITS.replace('20000', 'unlimited'))).toBeUndefined();
    expect(parseProcLimits('nothing')).toBeUndefined();
  });

  it('reads CAP_SYS_RESOURCE from CapEff', () => {
    expect(hasCapSysResource('CapEff:\t000001fffeffffff\n')).toBe(false);
    expect(hasCapSysResource('CapEff:\t000001ffffffffff\n')).toBe(true);
    expect(hasCapSysResource('CapEff:\t0000000001000000\n')).toBe(true);
  });

  it('falls back to `ulimit -Hn` when /proc is not there', async () => {
    const files: Record<string, string> = { '/proc/self/status': 'CapEff:\t0\n' };
    const env = await readFdEnvironment({
      readFile: async (p) => {
        if (p in files) return files[p] as string;
        throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      },
      sh: async (cmd) => (cmd === 'ulimit -Hn' ? '4096\n' : ''),
    });
    expect(env).toEqual({ hardLimit: 4096, canRaiseHardLimit: false });
  });

  // Found by an audit: the check used this controller's limit where HAProxy's master, adopted from an
  // earlier controller or started under another one, keeps its own through its reloads.
  it("reads the running master's limit and capabilities when given its pid, this process's when it cannot", async () => {
    const files: Record<string, string> = {
      '/proc/self/limits': 'Max open files            1024                 4096                 files\n',
      '/proc/self/status': 'CapEff:\t0000000000000000\n',
      '/proc/4242/limits': 'Max open files            1500                 1500                 files\n',
      '/proc/4242/status': 'CapEff:\t000001ffffffffff\n',
    };
    const deps = {
      readFile: async (p: string) => {
        if (p in files) return files[p] as string;
        throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      },
    };
    expect(await readFdEnvironment(deps, 4242)).toEqual({ hardLimit: 1500, canRaiseHardLimit: true });
    expect(await readFdEnvironment(deps, 77)).toEqual({ hardLimit: 4096, canRaiseHardLimit: false }); // gone
    expect(await readFdEnvironment(deps)).toEqual({ hardLimit: 4096, canRaiseHardLimit: false });
  });

  it('reads this machine', async () => {
    const env = await readFdEnvironment();
    expect(env.hardLimit === undefined || env.hardLimit > 0).toBe(true);
  });
});
