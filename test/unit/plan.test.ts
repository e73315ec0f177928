import { plan } from '../../src/streams/plan';
import { makeServer, makeService } from '../support/fixtures';

const server = makeServer;
const service = makeService;

describe('plan(lastApplied, next)', () => {
  test('first apply is a reload with a reason', () => {
    expect(plan(null, [service('a', [server(1)])])).toEqual({ runtimeOps: [], reloadReasons: ['initial configuration'] });
  });
  test('unchanged → nothing to do', () => {
    const s = [service('a', [server(1)])];
    expect(plan(s, s)).toEqual({ runtimeOps: [], reloadReasons: [] });
  });
  test('task churn in an unchanged backend → runtime ops only', () => {
    const p = plan([service('a', [server(1), server(2)])], [service('a', [server(2), server(3)])]);
    expect(p.reloadReasons).toEqual([]);
    expect(p.runtimeOps.map((o) => `${o.kind} ${o.server.name}`)).toEqual(['add-server 10_0_0_3_31000', 'remove-server 10_0_0_1_31000']);
  });
  test('blue/green drain flips are runtime ops', () => {
    const p = plan([service('a', [server(1)])], [service('a', [server(1, { draining: true })])]);
    expect(p.runtimeOps).toEqual([{ kind: 'set-draining', backend: 'a', server: server(1, { draining: true }), draining: true }]);
  });
  test('new backend, removed backend and changed settings are named reload reasons', () => {
    const p = plan([service('a', [server(1)]), service('b', [server(1)])], [service('a', [server(1)], { balance: 'leastconn' }), service('c', [server(1)])]);
    expect(p.runtimeOps).toEqual([]);
    expect(p.reloadReasons).toEqual(['backend c added', 'backend b removed', 'backend a settings changed (balance)']);
  });
  test('static-rr backends refuse dynamic servers → reload', () => {
    const p = plan([service('a', [server(1)], { balance: 'static-rr' })], [service('a', [server(1), server(2)], { balance: 'static-rr' })]);
    expect(p.reloadReasons).toEqual(['backend a uses static-rr, which refuses runtime server changes']);
  });
  test('a server whose id changed needs a reload', () => {
    const p = plan([service('a', [server(1)])], [service('a', [server(1, { id: 7 })])]);
    expect(p.reloadReasons).toEqual(['backend a server 10_0_0_1_31000 changed its definition']);
  });
});

describe('plan with the rendered configs', () => {
  const cfg = (servers: string[], extra = '') => `backend a\n  balance roundrobin${extra}\n${servers.map((s) => `  server ${s} 10.0.0.1:1`).join('\n')}\n`;
  test('a first-server change that templates do not print stays a runtime change', () => {
    const before = service('a', [server(2)], { backendCheckPort: 31002 });
    const after = service('a', [server(1), server(2)], { backendCheckPort: 31001 });
    const p = plan([before], [after], { previous: cfg(['s2']), next: cfg(['s1', 's2']) });
    expect(p.reloadReasons).toEqual([]);
    expect(p.runtimeOps).toHaveLength(1);
  });
  test('anything else changed in the text (e.g. a global template) is a named reload reason', () => {
    const s = [service('a', [server(1)])];
    const p = plan(s, s, { previous: cfg(['s1']), next: cfg(['s1'], '\n  timeout server 60s') });
    expect(p.reloadReasons).toEqual(['config changed outside server lines (templates or options)']);
  });
});

import { ServerIdMemo, serverId } from '../../src/model/serverIds';

describe('server ids', () => {
  test('the memo gives the same ids as hashing, and collisions still re-hash', () => {
    const names = Array.from({ length: 300 }, (_, i) => `10_0_${i % 7}_${i}_31000`);
    const plain = new Set<number>();
    const expected = names.map((n) => serverId(n, plain));
    const memo = new ServerIdMemo();
    for (let round = 0; round < 3; round++) {
      memo.nextSnapshot();
      const taken = new Set<number>();
      expect(names.map((n) => serverId(n, taken, memo))).toEqual(expected);
    }
    // A name whose first choice is taken falls back to re-hashing, exactly like upstream.
    const taken = new Set<number>([expected[0]!]);
    expect(serverId(names[0]!, taken, memo)).toBe(serverId(names[0]!, new Set([expected[0]!])));
  });
});
