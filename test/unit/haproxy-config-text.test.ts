import {
  durationMs,
  ensureIdleCloseOnResponse,
  hardStopAfterFor,
  liveConfig,
  longestGraceMs,
  longestTimeoutSeconds,
  serverLinesByBackend,
  serverLinesOf,
  withServerLines,
} from '../../src/haproxy/configText';
import type { ProcList } from '../../src/haproxy/masterSocket';
import { configSections } from '../../src/haproxy/limits';
import fc from 'fast-check';
import { reloadOutcome } from '../../src/haproxy/reloadProtocol';

describe('hard-stop-after by default', () => {
  test('HAProxy time values', () => {
    expect([
      durationMs('3600s'),
      durationMs('5m'),
      durationMs('1500'),
      durationMs('2h'),
      durationMs('1d'),
      durationMs('x'),
    ]).toEqual([3_600_000, 300_000, 1500, 7_200_000, 86_400_000, undefined]);
  });
  test("the longest client/server/tunnel timeout, at least 30 s: marathon-lb's head (tunnel 3600s) gives 3600", () => {
    const head =
      'global\ndefaults\n  timeout connect 3s\n  timeout client 30s\n  timeout server 30s\n  timeout tunnel 3600s\n  timeout queue 30s\n';
    expect(longestTimeoutSeconds(head)).toBe(3600);
    expect(hardStopAfterFor(head)).toBe(3600);
    expect(hardStopAfterFor('defaults\n  timeout client 5s\n  timeout tarpit 10m\n')).toBe(30);
    expect(hardStopAfterFor('defaults\n  timeout client 1500\n  timeout server 90s\n')).toBe(90);
    expect(hardStopAfterFor('global\n')).toBe(30);
  });
  test("liveConfig: derived unless set; an operator's own hard-stop-after or mworker-max-reloads in the config wins", () => {
    const cfg = 'global\n  maxconn 10\ndefaults\n  timeout tunnel 1h\n';
    expect(liveConfig(cfg, { hardStopAfterSeconds: undefined, maxOldWorkers: 10 })).toBe(
      'global\n  mworker-max-reloads 10\n  hard-stop-after 3600s\n  maxconn 10\ndefaults\n  option idle-close-on-response\n  timeout tunnel 1h\n',
    );
    expect(liveConfig(cfg, { hardStopAfterSeconds: 45, maxOldWorkers: 0 })).toContain(
      'global\n  hard-stop-after 45s\n  maxconn 10\n',
    );
    const own = 'global\n  hard-stop-after 5m\n  mworker-max-reloads 3\ndefaults\n';
    expect(liveConfig(own, { hardStopAfterSeconds: undefined, maxOldWorkers: 10 })).toBe(
      'global\n  hard-stop-after 5m\n  mworker-max-reloads 3\ndefaults\n  option idle-close-on-response\n',
    );
  });
});

describe('reloadOutcome (show proc before → after a reload)', () => {
  const e = (pid: number, reloads = 0) => ({ pid, type: 'worker', reloads, uptime: '0s', version: '2.6' });
  const proc = (reloads: number, workers: number[], old: number[] = [], failed?: number): ProcList => ({
    master: { ...e(1, reloads), type: 'master', ...(failed === undefined ? {} : { failedReloads: failed }) },
    workers: workers.map((p) => e(p)),
    oldWorkers: old.map((p) => e(p, 1)),
    programs: [],
  });
  test('waiting while the reload counter has not moved, or it moved without a new worker or a failure', () => {
    expect(reloadOutcome(proc(0, [10]), proc(0, [10]))).toEqual({ kind: 'waiting' });
    expect(reloadOutcome(proc(0, [10]), proc(1, [10]))).toEqual({ kind: 'waiting' });
  });
  test('loaded: a worker that was not there before; the old ones listed', () => {
    expect(reloadOutcome(proc(0, [10]), proc(1, [11], [10]))).toEqual({
      kind: 'loaded',
      newWorkerPid: 11,
      oldWorkers: [10],
    });
  });
  test('refused: the counter moved, [failed: n] counted, no new worker; the old worker keeps serving', () => {
    expect(reloadOutcome(proc(0, [10]), proc(1, [10], [], 1))).toEqual({ kind: 'refused', servingWorkerPids: [10] });
  });
});

describe('withServerLines (the config HAProxy runs after fast-path changes, for diffs)', () => {
  const config = [
    'frontend f',
    '  bind :80',
    '',
    'backend a',
    '  balance roundrobin',
    '  server s1 10.0.0.1:80',
    '  server s2 10.0.0.2:80',
    '',
    'backend b',
    '  balance roundrobin',
    '  server t1 10.0.0.3:80',
    '',
    'backend c',
    '  mode http',
    '',
  ].join('\n');

  it('replaces the server lines of the backends given, in place, and leaves the others', () => {
    const lines = new Map([
      [
        'a',
        new Map([
          ['s2', '  server s2 10.0.0.2:80'],
          ['s3', '  server s3 10.0.0.4:80'],
        ]),
      ],
    ]);
    const out = withServerLines(config, lines).split('\n');
    expect(out.slice(3, 8)).toEqual([
      'backend a',
      '  balance roundrobin',
      '  server s2 10.0.0.2:80',
      '  server s3 10.0.0.4:80',
      '',
    ]);
    expect(out.filter((l) => l.includes('server t1'))).toHaveLength(1);
    expect(serverLinesByBackend(out.join('\n')).get('a')).toEqual(lines.get('a'));
  });

  it('adds servers to a backend that had none, and empties one', () => {
    const lines = new Map([
      ['c', new Map([['u1', '  server u1 10.0.0.9:80']])],
      ['b', new Map<string, string>()],
    ]);
    const parsed = serverLinesByBackend(withServerLines(config, lines));
    expect([...parsed.get('c')!.keys()]).toEqual(['u1']);
    expect(parsed.get('b')!.size).toBe(0);
    expect([...parsed.get('a')!.keys()]).toEqual(['s1', 's2']);
  });

  it('returns the text unchanged when nothing was changed at runtime', () => {
    expect(withServerLines(config, new Map())).toBe(config);
  });
});

describe('liveConfig over the whole text', () => {
  /** The line-by-line definition liveConfig had before it scanned the text (sections by configSections). */
  function byLines(text: string, o: { hardStopAfterSeconds?: number; maxOldWorkers?: number }, global = true): string {
    const ensureGlobal = (t: string, keyword: string, value: string): string => {
      const lines = t.split('\n');
      const global = configSections(lines).find((s) => s.kind === 'global');
      const directive = `  ${keyword} ${value}`;
      if (!global) return `global\n${directive}\n${t}`;
      const set = new RegExp(`^\\s*${keyword}\\s`);
      for (let i = global.start + 1; i < global.end; i++) if (set.test(lines[i]!)) return t;
      lines.splice(global.start + 1, 0, directive);
      return lines.join('\n');
    };
    let t = global ? ensureGlobal(text, 'hard-stop-after', `${o.hardStopAfterSeconds}s`) : text;
    if (o.maxOldWorkers !== undefined && o.maxOldWorkers > 0)
      t = ensureGlobal(t, 'mworker-max-reloads', String(o.maxOldWorkers));
    const lines = t.split('\n');
    for (const d of configSections(lines)
      .filter((s) => s.kind === 'defaults')
      .reverse()) {
      let decided = false;
      for (let i = d.start + 1; i < d.end; i++)
        if (/^\s*(no\s+)?option\s+idle-close-on-response\b/.test(lines[i]!)) decided = true;
      if (!decided) lines.splice(d.start + 1, 0, '  option idle-close-on-response');
    }
    return lines.join('\n');
  }

  /** The regex definition longestTimeoutSeconds had before it searched for `timeout` natively. */
  function longestByRegex(text: string): number | undefined {
    let longest: number | undefined;
    for (const m of text.matchAll(/^\s*timeout\s+(?:client|server|tunnel)\s+(\S+)/gm)) {
      const ms = durationMs(m[1] as string);
      if (ms !== undefined) longest = Math.max(longest ?? 0, Math.ceil(ms / 1000));
    }
    return longest;
  }

  it('is what the line-by-line definition gives, for any arrangement of sections and lines', () => {
    const piece = fc.constantFrom(
      'global',
      ' global',
      'defaults',
      'defaults\t',
      'defaultsx',
      'backend b',
      'frontend f',
      '  hard-stop-after 9s',
      '  mworker-max-reloads 3',
      '  option idle-close-on-response',
      '  no option idle-close-on-response',
      '  server s 10.0.0.1:1',
      '# defaults',
      '',
      ' ',
      '\r',
      'xglobal',
      'global # main',
      '\tdefaults',
      'mworker-max-reloads 1',
      '  timeout client 45s',
      '  timeout tunnel 2m',
      'timeout server 90s timeout tunnel 1h',
      '  timeout',
      'server 70s',
      '\u2028 timeout client 40s',
      'listen l',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 14 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(undefined, 30),
        (lines, trailingNewline, maxOldWorkers, hardStopAfterSeconds) => {
          const text = lines.join('\n') + (trailingNewline ? '\n' : '');
          expect(longestTimeoutSeconds(text)).toBe(longestByRegex(text));
          const derived = Math.max(30, longestByRegex(text) ?? 0);
          expect(liveConfig(text, { hardStopAfterSeconds, maxOldWorkers })).toBe(
            byLines(text, { hardStopAfterSeconds: hardStopAfterSeconds ?? derived, maxOldWorkers }),
          );
          expect(ensureIdleCloseOnResponse(text)).toBe(byLines(text, { maxOldWorkers: 0 }, false));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('serverLinesOf', () => {
  it('reads one section as the whole-config parse does', () => {
    const piece = fc.constantFrom(
      'backend a',
      'backend a.b',
      'listen a',
      'backend ab',
      'backend a extra',
      'backend\ta',
      'backend  b',
      'frontend a',
      'x backend a',
      '\rbackend a',
      'backend a\r',
      '\u2028backend a',
      '  server s1 10.0.0.1:80',
      '  server s1 10.0.0.9:80 check',
      '\tserver s2 10.0.0.2:80',
      '  server s3',
      'server s4 10.0.0.4:80',
      '  balance roundrobin',
      '  server\u00a0s5 1.2.3.4:5 ',
      '',
      'global',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), fc.constantFrom('a', 'a.b', 'b', 'ab', 'x'), (lines, name) => {
        const text = lines.join('\n');
        expect(serverLinesOf(text, name)).toEqual(serverLinesByBackend(text).get(name));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('longestGraceMs', () => {
  test('the longest grace of any section, 0 without one', () => {
    expect(longestGraceMs('global\n  daemon\n')).toBe(0);
    expect(longestGraceMs('defaults\n  grace 2s\nfrontend a\n\tgrace 500\nfrontend b\n  # grace 1h\n')).toBe(2000);
  });
});
