import * as fs from 'node:fs';
import * as path from 'node:path';
import { addServerCommands, addServerSpec, parseServerLine } from '../../src/haproxy/serverCommands';
import { compatCases } from '../support/paths';

describe('addServerSpec', () => {
  it("turns marathon-lb's server line into what HAProxy 2.6 accepts, reporting what it dropped", () => {
    const spec = addServerSpec(
      '  server 10_0_1_23_31001 10.0.1.23:31001 id 22256 check inter 60s fall 4 port 31002 cookie abcd disabled',
    );
    expect(spec).toEqual({
      ok: true,
      value: {
        name: '10_0_1_23_31001',
        address: '10.0.1.23:31001',
        args: ['id', '22256', 'check', 'inter', '60s', 'fall', '4', 'port', '31002'],
        dropped: [
          {
            keyword: 'cookie',
            args: ['abcd'],
            changesBehaviour: true,
            reason: expect.stringContaining("HAProxy 2.6 refuses 'cookie' for dynamic servers"),
          },
          {
            keyword: 'disabled',
            args: [],
            changesBehaviour: false,
            reason: expect.stringContaining('stays in maintenance'),
          },
        ],
        enable: false,
        enableHealth: true,
        enableAgent: false,
        exact: false,
      },
    });
  });

  it('passes a plain line through unchanged and enables the server', () => {
    const spec = addServerSpec('server s 10.0.0.1:80 id 5 weight 10 maxconn 77 send-proxy-v2');
    expect(spec.ok && spec.value).toMatchObject({
      args: ['id', '5', 'weight', '10', 'maxconn', '77', 'send-proxy-v2'],
      dropped: [],
      enable: true,
      enableHealth: false,
      exact: true,
    });
  });

  it('drops harmless refused options without making the result inexact', () => {
    const spec = addServerSpec(
      'server s 10.0.0.1:80 init-addr none resolvers dns no-check agent-check agent-port 9 enabled',
    );
    expect(spec.ok && spec.value).toMatchObject({
      args: ['agent-check', 'agent-port', '9'],
      enable: true,
      enableAgent: true,
      exact: true,
    });
    expect(spec.ok && spec.value.dropped.map((d) => d.keyword)).toEqual([
      'init-addr',
      'resolvers',
      'no-check',
      'enabled',
    ]);
  });

  it('refuses what it cannot read, naming the problem', () => {
    expect(addServerSpec('server s 1.2.3.4:5 frobnicate 3')).toEqual({
      ok: false,
      error: "server s: unknown server keyword 'frobnicate' (cannot tell its arguments; reload instead)",
    });
    expect(addServerSpec('server s 1.2.3.4:5 inter')).toEqual({
      ok: false,
      error: "server s: 'inter' needs a value",
    });
    expect(addServerSpec('server s 1.2.3.4:5 agent-send "a b"').ok).toBe(false);
    expect(addServerSpec('backend b').ok).toBe(false);
  });

  it('reads every server line of the compat corpus', () => {
    const lines = compatCases()
      .flatMap((c) => fs.readFileSync(path.join(c.dir, 'expected.cfg'), 'utf8').split('\n'))
      .filter((l) => /^\s*server\s/.test(l));
    expect(lines.length).toBeGreaterThan(1000);
    const failures = lines.map((l) => [l, parseServerLine(l)] as const).filter(([, r]) => !r.ok);
    expect(failures).toEqual([]);
  });
});

describe('addServerCommands', () => {
  it('adds in maintenance, starts checks, then enables', () => {
    const spec = addServerSpec('server s 10.0.0.1:80 id 7 check inter 2s agent-check agent-port 9');
    if (!spec.ok) throw new Error(spec.error);
    expect(addServerCommands('app_10000', spec.value)).toEqual([
      'add server app_10000/s 10.0.0.1:80 id 7 check inter 2s agent-check agent-port 9',
      'enable health app_10000/s',
      'enable agent app_10000/s',
      'enable server app_10000/s',
    ]);
  });

  it('leaves a disabled server in maintenance', () => {
    const spec = addServerSpec('server s 10.0.0.1:80 disabled');
    if (!spec.ok) throw new Error(spec.error);
    expect(addServerCommands('b', spec.value)).toEqual(['add server b/s 10.0.0.1:80']);
  });
});
