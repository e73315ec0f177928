/**
 * Which balance algorithms HAProxy takes servers into at runtime (`add server`), asked of a real
 * HAProxy 2.6, against what the planner assumes (reconcile/plan.ts refusesDynamicServers). A scale of
 * a `balance source` app was planned as runtime changes, refused, warned about, then reloaded at
 * every scale (an operator audit).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliSocket } from '../../src/haproxy/masterSocket';
import type { HaproxyProcess } from '../../src/haproxy/process';
import { consistentlyHashed, refusesDynamicServers } from '../../src/reconcile/plan';
import { describeWithHaproxy, startedHaproxyProcess } from '../support/haproxy';

/** [backend name, balance line, hash-type line or ''] */
const BACKENDS: readonly (readonly [string, string, string])[] = [
  ['rr', 'roundrobin', ''],
  ['lc', 'leastconn', ''],
  ['first', 'first', ''],
  ['random', 'random(2)', ''],
  ['static', 'static-rr', ''],
  ['source', 'source', ''],
  ['uri', 'uri whole', ''],
  ['param', 'url_param id', ''],
  ['hdr', 'hdr(Host)', ''],
  ['rdp', 'rdp-cookie', ''],
  ['source_map', 'source', 'hash-type map-based'],
  ['source_cons', 'source', 'hash-type consistent'],
  ['uri_cons', 'uri', 'hash-type consistent sdbm avalanche'],
  ['hdr_cons', 'hdr(Host)', 'hash-type consistent'],
];

describeWithHaproxy('runtime servers and balance algorithms (a real HAProxy)', (haproxy) => {
  let dir: string;
  let hp: HaproxyProcess;
  let config: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-balance-'));
    config = [
      'global',
      `  stats socket ${path.join(dir, 'stats.sock')} level admin`,
      'defaults',
      '  mode http',
      '  timeout client 5s',
      '  timeout server 5s',
      '  timeout connect 5s',
      ...BACKENDS.flatMap(([name, balance, hashType]) => [
        `backend ${name}`,
        `  balance ${balance}`,
        ...(hashType ? [`  ${hashType}`] : []),
        '  server s1 127.0.0.1:1 disabled',
      ]),
      '',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'haproxy.cfg'), config);
    hp = await startedHaproxyProcess(haproxy.bin, dir);
  });
  afterAll(async () => {
    await hp?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the planner reloads exactly where HAProxy refuses `add server`', async () => {
    const socket = new CliSocket({ path: path.join(dir, 'stats.sock'), timeoutMs: 5000 });
    const verdicts: [string, boolean, boolean][] = [];
    for (const [name, balance] of BACKENDS) {
      const answer = await socket.send(`add server ${name}/added 127.0.0.1:2`);
      if (!answer.ok) throw new Error(answer.error);
      const refused = !/New server registered/.test(answer.value);
      verdicts.push([name, refused, refusesDynamicServers(balance, consistentlyHashed(config).has(name))]);
    }
    expect(verdicts.filter(([, refused, planned]) => refused !== planned)).toEqual([]);
    expect(verdicts.filter(([, refused]) => refused).map(([name]) => name)).toEqual([
      'static',
      'source',
      'uri',
      'param',
      'hdr',
      'rdp',
      'source_map',
    ]);
  });
});
