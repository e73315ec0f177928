/**
 * `marathon-lb check-labels` in process: app definitions (Marathon 1.4 and 1.5+ shapes) through
 * the service's model and renderer and a real `haproxy -c`; each problem names its label and a
 * fix; exit codes 0 served, 1 left out / not selected, 2 bad input, 3 HAProxy missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCheckLabelsArgs } from '../../src/cli/args';
import type { Lookup } from '../../src/marathon/hostResolver';
import { runCheckLabels } from '../../src/checkLabels/check';
import { appFromDefinition } from '../../src/checkLabels/definition';
import { fixFor } from '../../src/checkLabels/report';
import { describeWithHaproxy } from '../support/haproxy';
import { dryRun, tempDir } from '../support/render';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const dir = tempDir('mlb-check-labels-test-');
// No certificate at the default path: the check must make one as the service does, not fail on it.
const ENV = { MARATHON_LB_DEFAULT_SSL_CERT: path.join(dir, 'absent-cert.pem') };
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function check(
  app: unknown,
  flags: readonly string[] = [],
  opts: { stdin?: string; noHaproxy?: boolean; raw?: string; lookup?: Lookup } = {},
): Promise<Run> {
  const file = path.join(dir, `app-${++n}.json`);
  if (opts.stdin === undefined) fs.writeFileSync(file, opts.raw ?? JSON.stringify(app));
  const parsed = parseCheckLabelsArgs(['--app-file', opts.stdin !== undefined ? '-' : file, ...flags], ENV);
  if (!parsed.ok)
    return { code: 2, stdout: '', stderr: parsed.error.kind === 'error' ? parsed.error.message : parsed.error.text };
  let stdout = '';
  let stderr = '';
  const code = await runCheckLabels(parsed.value, {
    env: ENV,
    readStdin: () => Promise.resolve(opts.stdin ?? ''),
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    ...(opts.noHaproxy === true ? { detect: () => undefined } : {}),
    ...(opts.lookup === undefined ? {} : { lookup: opts.lookup }),
  });
  return { code, stdout, stderr };
}

/** Marathon 1.4 shape: `ports` 0 (assigned at deploy time), host networking. */
const legacyApp = (labels: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'web',
  instances: 2,
  cmd: 'python3 -m http.server $PORT0',
  ports: [0],
  labels: { HAPROXY_GROUP: 'external', ...labels },
  ...extra,
});

/** Marathon 1.5+ shape: networks + container.portMappings (hostPort 0: Mesos picks it). */
const bridgeApp = (labels: Record<string, string>): Record<string, unknown> => ({
  id: '/shop/front',
  instances: 3,
  networks: [{ mode: 'container/bridge' }],
  container: {
    type: 'DOCKER',
    docker: { image: 'nginx' },
    portMappings: [
      { containerPort: 80, hostPort: 0, servicePort: 10080 },
      { containerPort: 81, hostPort: 0 },
    ],
  },
  healthChecks: [{ protocol: 'MESOS_HTTP', path: '/', portIndex: 0 }],
  labels: { HAPROXY_GROUP: 'external', ...labels },
});

describe('appFromDefinition', () => {
  it('stands in for the service ports Marathon assigns and the host ports Mesos picks, one healthy task per instance (at most 3)', () => {
    const d = appFromDefinition({
      id: 'a/b',
      instances: 5,
      portDefinitions: [{ port: 0 }, { port: 12000 }],
      healthChecks: [{ protocol: 'HTTP', portIndex: 0 }],
    });
    if (!d.ok) throw new Error(d.error);
    expect(d.value.app['id']).toBe('/a/b');
    expect(d.value.app['portDefinitions']).toEqual([{ port: 10000 }, { port: 12000 }]);
    const tasks = d.value.app['tasks'] as Record<string, unknown>[];
    expect(tasks.map((t) => [t['host'], t['ports'], t['healthCheckResults']])).toEqual([
      ['127.0.0.1', [31000, 31001], [{ alive: true }]],
      ['127.0.0.2', [31100, 31101], [{ alive: true }]],
      ['127.0.0.3', [31200, 31201], [{ alive: true }]],
    ]);
    expect(d.value.notes).toEqual([
      'portDefinitions[0] has no service port (Marathon assigns one at deploy time): checked as 10000',
    ]);
  });

  it('keeps fixed host ports (requirePorts, bridge hostPort) and fills portMappings service ports', () => {
    const d = appFromDefinition({ id: '/x', requirePorts: true, portDefinitions: [{ port: 8080 }] });
    expect(d.ok && (d.value.app['tasks'] as Record<string, unknown>[])[0]?.['ports']).toEqual([8080]);
    const b = appFromDefinition(bridgeApp({}));
    if (!b.ok) throw new Error(b.error);
    const c = b.value.app['container'] as { portMappings: Record<string, unknown>[] };
    expect(c.portMappings.map((m) => m['servicePort'])).toEqual([10080, 10001]);
    expect((b.value.app['tasks'] as Record<string, unknown>[])[1]?.['ports']).toEqual([31100, 31101]);
  });

  it('refuses groups and app lists with a way to pick one app; unwraps GET /v2/apps/<id> answers', () => {
    const g = appFromDefinition({ id: '/grp', apps: [{ id: 'a' }, { id: 'b' }] });
    expect(g).toEqual({ ok: false, error: expect.stringMatching(/group or app list \(2 app\(s\).*jq '\.apps\[0\]'/) });
    expect(appFromDefinition([{ id: 'a' }])).toMatchObject({ ok: false });
    expect(appFromDefinition({ instances: 1 })).toEqual({ ok: false, error: 'the app definition has no "id" string' });
    const w = appFromDefinition({ app: { id: '/wrapped', ports: [10001] } });
    expect(w.ok && w.value.app['id']).toBe('/wrapped');
  });
});

describe('fixFor', () => {
  it.each([
    ['HAPROXY_0_VHOST', 'value "x y" must be host names', /host names separated by commas/],
    ['HAPROXY_1_BIND_ADDR', 'must be *', /IP address/],
    ['HAPROXY_0_PORT', 'port 70000 is outside 1..65535', /1\.\.65535/],
    ['HAPROXY_0_BACKEND_HEAD', '"reqpass" was removed in HAProxy 2.1', /http-request\/http-response/],
    ['HAPROXY_0_FRONTEND_HEAD', 'per-app template labels are refused (--refuse-app-templates)', /remove the label/],
  ])('%s', (label, message, fix) => {
    expect(fixFor(label, message, 'model')).toMatch(fix);
  });
});

describe('check-labels: text from the definition is printed without its control characters', () => {
  it('an escape sequence in malformed JSON, an app id with a line feed: no raw escape, no line of their own', async () => {
    const bad = await check(undefined, [], { raw: '\u001b]0;PWNED\u0007{' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("is not valid JSON: Unexpected token '\\u001b'\n"); // its text is not quoted (bad-input.test.ts)
    expect(bad.stderr).not.toContain('\u001b');
    const forged = await check({ id: '/sh\u001b[31mop\nresult: served', labels: { HAPROXY_GROUP: 'external' } }, [], {
      noHaproxy: true,
    });
    expect(forged.stdout).not.toContain('\u001b');
    expect(forged.stdout.split('\n').filter((l) => l.startsWith('result:'))).toHaveLength(1);
    expect(forged.stdout).toContain('app /sh\\u001b[31mop\\nresult: served,');
  });
});

describe('check-labels: bad input is one clear line, exit 2', () => {
  it.each([
    ['malformed JSON', { raw: '{"id": "x", ' }, /is not valid JSON/],
    ['a group', { app: { id: '/g', apps: [{ id: 'a' }] } }, /not one app definition/],
    ['no id', { app: { labels: {} } }, /no "id"/],
  ])('%s', async (_name, input, message) => {
    const r = await check((input as { app?: unknown }).app, [], { raw: (input as { raw?: string }).raw });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
  });

  it('a BIND_ADDR whose name server never answers: waits --request-timeout, then says it has not answered', async () => {
    const never: Lookup = () => new Promise<string>(() => undefined);
    const r = await check(legacyApp({ HAPROXY_0_BIND_ADDR: 'lb-1.example' }), ['--request-timeout', '0.2'], {
      lookup: never,
      noHaproxy: true,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('has not answered its lookup yet');
    expect(r.stderr).toBe(
      'marathon-lb check-labels: warning: host name lb-1.example gave no answer within --request-timeout (0.2 s)\n',
    );
  });

  it('an unreadable file', async () => {
    const parsed = parseCheckLabelsArgs(['--app-file', path.join(dir, 'missing.json')], ENV);
    if (!parsed.ok) throw new Error('parse');
    let stderr = '';
    const code = await runCheckLabels(parsed.value, {
      env: ENV,
      readStdin: () => Promise.resolve(''),
      stdout: () => undefined,
      stderr: (s) => (stderr += s),
    });
    expect([code, stderr]).toEqual([
      2,
      expect.stringMatching(/cannot read .*missing\.json: no such file or directory \(ENOENT\)\n$/),
    ]);
  });

  it('--app-file is required; prefixes of the service flags still work; --app is ambiguous with --apps-file', () => {
    expect(parseCheckLabelsArgs([], {})).toEqual({
      ok: false,
      error: { kind: 'error', message: expect.stringMatching(/--app-file is required/) },
    });
    const ok = parseCheckLabelsArgs(['--app-f', 'x.json', '--strict', '--group', 'internal', '--js'], {});
    expect(ok).toMatchObject({
      ok: true,
      value: { appFile: 'x.json', json: true, groupGiven: true, options: { strictMode: true, group: ['internal'] } },
    });
    expect(parseCheckLabelsArgs(['--app', 'x.json'], {})).toMatchObject({
      ok: false,
      error: { kind: 'error', message: expect.stringMatching(/ambiguous/) },
    });
    expect(parseCheckLabelsArgs(['--app-file', 'x.json'], { MLB_GROUP: 'internal' })).toMatchObject({
      ok: true,
      value: { groupGiven: true },
    });
    expect(parseCheckLabelsArgs(['--help'], {})).toMatchObject({
      ok: false,
      error: { kind: 'help', text: expect.stringMatching(/check-labels --app-file APP\.json/) },
    });
    // --group is optional here (an audit: the help called it required).
    const help = parseCheckLabelsArgs(['--help'], {});
    const text = !help.ok && help.error.kind === 'help' ? help.error.text : '';
    expect(text).toMatch(/--group +Only generate config/);
    expect(text.replace(/\s+/g, ' ')).toContain("Default: the app's own HAPROXY_GROUP.");
  });
});

describe('check-labels: what the model refuses (exit 1, label named, with a fix)', () => {
  it.each([
    ['bad VHOST', { HAPROXY_0_VHOST: 'shop#example.com' }, 'HAPROXY_0_VHOST', /must be host names/],
    ['bad BIND_ADDR', { HAPROXY_0_BIND_ADDR: '10.0.0.1;rm' }, 'HAPROXY_0_BIND_ADDR', /must be \*, an IPv4/],
    ['PORT out of range', { HAPROXY_0_PORT: '70000' }, 'HAPROXY_0_PORT', /port 70000 is outside 1\.\.65535/],
    ['bad MODE', { HAPROXY_0_MODE: 'udp' }, 'HAPROXY_0_MODE', /unknown mode "udp"/],
  ])('%s', async (_name, labels, label, message) => {
    const r = await check(legacyApp(labels), [], { noHaproxy: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`problem (port index 0, label ${label}): `);
    expect(r.stdout).toMatch(message);
    expect(r.stdout).toMatch(/\n {2}fix: use /);
    expect(r.stdout).toMatch(/port index 0 \(service port \d+\): LEFT OUT/);
    expect(r.stdout).toMatch(/result: NOT SERVED \(1 problem\(s\)\)\n$/);
  });

  it('a service port marathon-lb itself binds (9090): the port index, why, and the fix', async () => {
    const r = await check(legacyApp({ HAPROXY_0_PORT: '9090' }), [], { noHaproxy: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'problem (port index 0): service port 9090 is already bound by the HAPROXY_HEAD template',
    );
    expect(r.stdout).toContain("fix: choose another service port (HAPROXY_{n}_PORT or the app's port definition)");
  });

  it('a vhost on a tcp port: the {n} of the label is the port index', async () => {
    const r = await check(legacyApp({ HAPROXY_0_VHOST: 'web.example.com', HAPROXY_0_MODE: 'tcp' }), [], {
      noHaproxy: true,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'problem (port index 0, label HAPROXY_0_VHOST): service port 10000 has a vhost but mode tcp',
    );
  });

  it('--refuse-app-templates: a template label is refused by name', async () => {
    const r = await check(legacyApp({ HAPROXY_0_FRONTEND_HEAD: 'frontend {backend}\n' }), ['--refuse-app-templates'], {
      noHaproxy: true,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'label HAPROXY_0_FRONTEND_HEAD): per-app template labels are refused (--refuse-app-templates)',
    );
  });

  it('--json carries the same findings and the exit code', async () => {
    const r = await check(legacyApp({ HAPROXY_0_VHOST: 'a b\\c' }), ['--json'], { noHaproxy: true });
    const j = JSON.parse(r.stdout) as {
      exitCode: number;
      problems: { label: string; by: string; fix: string }[];
      ports: { status: string }[];
    };
    expect(r.code).toBe(1);
    expect(j.exitCode).toBe(1);
    expect(j.problems).toEqual([
      expect.objectContaining({ label: 'HAPROXY_0_VHOST', by: 'model', fix: expect.stringMatching(/host names/) }),
    ]);
    expect(j.ports).toEqual([expect.objectContaining({ status: 'left out' })]);
  });
});

describe('check-labels: apps that would not be selected (exit 1, with the reason)', () => {
  it('no HAPROXY_GROUP', async () => {
    const r = await check({ id: '/nogroup', ports: [0], labels: {} }, [], { noHaproxy: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/NOT SELECTED — no HAPROXY_GROUP label: add HAPROXY_GROUP=<group>/);
    expect(r.stdout).toContain('haproxy -c not run: nothing of this app would be in the config');
  });

  it('HAPROXY_GROUP of another marathon-lb', async () => {
    const r = await check(legacyApp({}), ['--group', 'internal'], { noHaproxy: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'NOT SELECTED — HAPROXY_GROUP is external, and this marathon-lb serves --group internal',
    );
  });

  it.each([
    [{ HAPROXY_0_GROUP: '' }, 'HAPROXY_0_GROUP is empty'],
    [{ HAPROXY_GROUP: '' }, 'HAPROXY_GROUP is empty'],
    [{ HAPROXY_0_GROUP: ',' }, 'HAPROXY_0_GROUP is ,'],
  ])('an empty group label %j names no group the service serves, as the service reads it', async (labels, why) => {
    const r = await check(legacyApp(labels), ['--group', 'external'], { noHaproxy: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`NOT SELECTED — ${why}, and this marathon-lb serves --group external`);
    expect(r.stdout).not.toMatch(/^problem/m);
    // As the service itself: left out of the config, with nothing to warn about.
    const task = { id: 'web.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' };
    const file = path.join(dir, `apps-${++n}.json`);
    fs.writeFileSync(
      file,
      JSON.stringify({ apps: [{ ...legacyApp(labels), id: '/web', ports: [10000], tasks: [task] }] }),
    );
    const dry = await dryRun(['--apps-file', file, '--group', 'external', '--haproxy-version', '2.6']);
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).not.toContain('backend web_');
  });

  it('--strict-mode without HAPROXY_{n}_ENABLED; one port enabled is enough to be served', async () => {
    const r = await check(legacyApp({}), ['--strict-mode'], { noHaproxy: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('--strict-mode serves only ports with HAPROXY_0_ENABLED=true');
    const two = await check(legacyApp({ HAPROXY_0_ENABLED: 'true' }, { ports: [0, 0] }), ['--strict-mode'], {
      noHaproxy: true,
    });
    expect(two.stdout).toMatch(
      /port index 0 \(service port 10000\): served by backend web_10000\n {2}port index 1 \(service port 10001\): NOT SELECTED/,
    );
    expect(two.code).toBe(3); // served, but HAProxy could not check it here
  });

  it('an app that says nothing of ports gets the one Marathon gives it (host or bridge); one with none at all is not served', async () => {
    // Marathon: "Each Marathon application is given a single port by default, so $PORT0 is always available."
    const web = { id: '/web', cmd: 'serve $PORT0', labels: { HAPROXY_GROUP: 'external' } };
    const r = await check(web, [], { noHaproxy: true });
    expect(r.stdout).toContain('port index 0 (service port 10000): served by backend web_10000');
    expect(r.stdout).toContain('note: the definition declares no ports: Marathon gives an app on host networking one');
    expect(r.code).toBe(3); // served, but HAProxy could not check it here
    const none = await check({ ...web, portDefinitions: [] }, [], { noHaproxy: true });
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('not served: the app declares no ports');
    // Bridged without port mappings: Marathon gives one, with a host port (AppNormalization.applyDefaultPortMappings).
    const bridge = { ...web, container: { type: 'DOCKER', docker: { image: 'x', network: 'BRIDGE' } } };
    const unmapped = await check(bridge, [], { noHaproxy: true });
    expect(unmapped.stdout).toContain('port index 0 (service port 10000): served by backend web_10000');
    expect(unmapped.stdout).toContain(
      'note: the definition declares no port mappings: Marathon gives an app on bridge',
    );
    expect(unmapped.code).toBe(3);
    const unmappedNone = await check({ ...bridge, container: { ...bridge.container, portMappings: [] } }, [], {
      noHaproxy: true,
    });
    expect(unmappedNone.code).toBe(1);
    expect(unmappedNone.stdout).toContain('not served: the app declares no ports');
  });
});

describe('check-labels: notes that explain silent outcomes', () => {
  it('a template label that changes nothing (an HTTP template on a tcp port)', async () => {
    const r = await check(legacyApp({ HAPROXY_0_BACKEND_HTTP_OPTIONS: '  option forwardfor\n' }), [], {
      noHaproxy: true,
    });
    expect(r.stdout).toContain(
      'note: label HAPROXY_0_BACKEND_HTTP_OPTIONS changes nothing in the config (port index 0 is in tcp mode)',
    );
    const http = await check(
      legacyApp({ HAPROXY_0_MODE: 'http', HAPROXY_0_BACKEND_HTTP_OPTIONS: '  option forwardfor\n' }),
      [],
      { noHaproxy: true },
    );
    expect(http.stdout).not.toContain('changes nothing');
  });

  it('labels no port reads: a misspelled name, an index with leading zeros or past the ports, no index at all', async () => {
    const r = await check(
      legacyApp({
        HAPROXY_0_VHOST: 'a.example.com',
        HAPROXY_0_VHOTS: 'b.example.com',
        HAPROXY_00_MODE: 'http',
        HAPROXY_1_VHOST: 'c.example.com',
        HAPROXY_BALANCE: 'leastconn',
        HAPROXY_DEPLOYMENT_GROUP: 'web',
        HAPROXY_0_GROUP: 'external',
        HAPROXY_0_BACKEND_HEAD: '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n',
      }),
      [],
      { noHaproxy: true },
    );
    const notes = r.stdout.split('\n').filter((l) => l.startsWith('note: label') && !l.includes('changes nothing in'));
    expect(notes).toEqual([
      'note: label HAPROXY_00_MODE names no port: marathon-lb reads HAPROXY_0_MODE, without leading zeros',
      'note: label HAPROXY_0_VHOTS: marathon-lb has no per-port label VHOTS (misspelled?), so it changes nothing (--longhelp lists them)',
      'note: label HAPROXY_1_VHOST is for port index 1, but the app has 1 service port(s): it changes nothing',
      'note: label HAPROXY_BALANCE is read for no port: marathon-lb reads HAPROXY_0_BALANCE for the first one',
    ]);
  });

  it('an IP-per-task app (Marathon 1.4 ipAddress.discovery): served on a port marathon-lb assigns; none without a range', async () => {
    const ippt = {
      id: '/ippt',
      instances: 2,
      ipAddress: { networkName: 'dcos', discovery: { ports: [{ number: 8080, name: 'http', protocol: 'tcp' }] } },
      labels: { HAPROXY_GROUP: 'external' },
    };
    const r = await check(ippt, [], { noHaproxy: true });
    expect(r.stdout).toMatch(/port index 0 \(service port (100[5-9]\d|10100)\): served by backend ippt_\d+/);
    expect(r.stdout).toContain(
      'note: Marathon gives IP-per-task apps no service ports: marathon-lb assigns them from --min/--max-serv-port-ip-per-task (10050-10100)',
    );
    expect(r.code).toBe(3);
    const none = await check(ippt, ['--min-serv-port-ip-per-task', '0', '--max-serv-port-ip-per-task', '0'], {
      noHaproxy: true,
    });
    expect(none.code).toBe(1);
    expect(none.stdout).toContain(
      'not served: an IP-per-task app without service ports, and this marathon-lb assigns none',
    );
  });
});

describe('check-labels without HAProxy installed', () => {
  it('a good app: the model checks pass, exit 3 says HAProxy could not check it', async () => {
    const r = await check(
      legacyApp({ HAPROXY_0_VHOST: 'web.example.com' }),
      ['--haproxy-bin', path.join(dir, 'no-haproxy')],
      { noHaproxy: true },
    );
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(
      `haproxy -c not run: HAProxy is not installed here (${path.join(dir, 'no-haproxy')} does not run; --haproxy-bin names another)`,
    );
  });
});

describeWithHaproxy('check-labels with a real haproxy -c', (haproxy) => {
  const bin = ['--haproxy-bin', haproxy.bin];

  it('a good Marathon 1.4 app is served (exit 0), with the stood-in service port noted', async () => {
    const r = await check(legacyApp({ HAPROXY_0_VHOST: 'web.example.com', HAPROXY_0_REDIRECT_TO_HTTPS: 'true' }), bin);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('port index 0 (service port 10000): served by backend web_10000');
    expect(r.stdout).toContain(
      'note: ports[0] has no service port (Marathon assigns one at deploy time): checked as 10000',
    );
    expect(r.stdout).toContain('haproxy -c accepts the config holding only this app');
    expect(r.stdout).toMatch(/result: served \(1 of 1 service port\(s\)\)\n$/);
    expect(r.code).toBe(0);
  });

  it('a good Marathon 1.5+ bridge app read from standard input, with --haproxy-map', async () => {
    const r = await check(undefined, [...bin, '--haproxy-map'], {
      stdin: JSON.stringify(bridgeApp({ HAPROXY_0_VHOST: 'shop.example.com' })),
    });
    expect(r.stdout).toContain('served by backend shop_front_10080');
    expect(r.stdout).toContain('served by backend shop_front_10001');
    expect(r.code).toBe(0);
  });

  it('a template label only HAProxy rejects: named, with the config line, exit 1', async () => {
    const head = 'backend {backend}\n  balance {balance}\n  mode {mode}\n  frobnicate yes\n';
    const r = await check(
      bridgeApp({ HAPROXY_0_VHOST: 'shop.example.com', HAPROXY_0_BACKEND_HEAD: head, HAPROXY_0_BALANCE: 'leastconn' }),
      bin,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'problem (port index 0, label HAPROXY_0_BACKEND_HEAD), rejected by haproxy -c: HAProxy refuses the config with this label',
    );
    expect(r.stdout).toMatch(/unknown keyword 'frobnicate'/);
    expect(r.stdout).toMatch(/haproxy\.cfg line \d+: frobnicate yes/);
    expect(r.stdout).toContain('fix: correct HAPROXY_0_BACKEND_HEAD');
    // the model accepted the other labels; the other port is still served; the rejected one is left out
    expect(r.stdout).not.toMatch(/label HAPROXY_0_(VHOST|BALANCE)/);
    expect(r.stdout).toMatch(/port index 0 \(service port 10080\): LEFT OUT — rejected by haproxy -c/);
    expect(r.stdout).toContain('served by backend shop_front_10001');
    expect(r.stdout).toContain('haproxy -c rejects the config holding only this app');
  });

  it('two ports with labels HAProxy rejects: each named', async () => {
    const r = await check(
      bridgeApp({
        HAPROXY_0_MODE: 'http',
        HAPROXY_0_BACKEND_HTTP_OPTIONS: '  option forwardfor\n  no-such-option on\n',
        HAPROXY_1_FRONTEND_HEAD:
          '\nfrontend {backend}\n  bind {bindAddr}:{servicePort}{sslCert}{bindOptions}\n  mode {mode}\n  bogus-directive\n',
      }),
      bin,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('label HAPROXY_0_BACKEND_HTTP_OPTIONS), rejected by haproxy -c');
    expect(r.stdout).toContain('label HAPROXY_1_FRONTEND_HEAD), rejected by haproxy -c');
    expect(r.stdout).toMatch(/result: NOT SERVED \(2 problem\(s\)\)/);
  });

  it("a service config HAProxy rejects without the app (the operator's flags) is not blamed on the app: exit 2", async () => {
    const r = await check(legacyApp({ HAPROXY_0_VHOST: 'web.example.com' }), [
      ...bin,
      '--ssl-certs',
      path.join(dir, 'missing-cert.pem'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^marathon-lb check-labels: haproxy -c rejects the service's config even without this app \(the operator's templates or flags\): .*missing-cert\.pem.*; haproxy\.cfg line \d+: bind \*:443 ssl crt \S+missing-cert\.pem\n$/,
    );
  });

  it('a legacy directive in a label is translated for HAProxy 2.6 (noted) and accepted', async () => {
    const r = await check(
      legacyApp({
        HAPROXY_0_VHOST: 'web.example.com',
        HAPROXY_0_BACKEND_HTTP_OPTIONS: '  option forwardfor\n  reqadd X-Checked:\\ yes\n',
      }),
      bin,
    );
    expect(r.stdout).toMatch(
      /note: label HAPROXY_0_BACKEND_HTTP_OPTIONS: "reqadd X-Checked:\\ yes" \(removed in HAProxy 2\.1\) is written as "http-request add-header X-Checked/,
    );
    expect(r.stdout).toContain('haproxy -c accepts');
    expect(r.code).toBe(0);
  });

  it('a legacy directive that cannot be translated: the label and the modern replacement', async () => {
    const r = await check(
      legacyApp({
        HAPROXY_0_VHOST: 'web.example.com',
        HAPROXY_0_BACKEND_HTTP_OPTIONS: '  option forwardfor\n  reqpass ^X-Internal:\n',
      }),
      bin,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /problem \(port index 0, label HAPROXY_0_BACKEND_HTTP_OPTIONS\): .*"reqpass" was removed in HAProxy 2\.1/,
    );
    expect(r.stdout).toContain('fix: write the http-request/http-response rule the message names');
  });
});
