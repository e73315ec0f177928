/**
 * Validation at the edge (issue 9): every value from Marathon and every non-template label is
 * checked against what HAProxy accepts where it is printed; a value that does not fit leaves only
 * its app (or service port) out with one Problem naming app, port index, field and reason.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseAppsJson } from '../../src/model/appsJson';
import { checkBindOptions, type FileChecks } from '../../src/model/bindOptions';
import { fileChecks } from '../../src/model/files';
import {
  configText,
  dottedIPv4,
  isAddressOrNetwork,
  isBindAddress,
  isIPv6,
  splitWords,
} from '../../src/model/haproxyText';
import { toModel, type ModelOptions } from '../../src/model/services';
import type { Problem } from '../../src/model/types';
import { dryRun, tempDir } from '../support/render';

const OPTS: ModelOptions = { groups: ['external'], strictMode: false, healthCheck: false, servicePortRange: null };
const resolve = (h: string): string | undefined =>
  /^\d+\.\d+\.\d+\.\d+$/.test(h) ? h : h === 'localhost' ? '127.0.0.1' : undefined;

const app = (
  id: string,
  labels: Record<string, string> = {},
  port = 10001,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  id,
  labels: { HAPROXY_GROUP: 'external', ...labels },
  portDefinitions: [{ port }],
  tasks: [{ id: `${id.slice(1)}.1`, host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
  ...extra,
});

/** Model of a body: the served backends and the problems. */
function model(
  apps: unknown[],
  opts: Partial<ModelOptions> = {},
  files?: FileChecks,
): { backends: string[]; problems: readonly Problem[] } {
  const parsed = parseAppsJson({ apps });
  if (!parsed.ok) throw new Error(parsed.error);
  const m = toModel(parsed.value.apps, { ...OPTS, ...opts }, { resolve, ...(files ? { files } : {}) });
  return { backends: m.services.map((s) => s.backend), problems: [...parsed.value.problems, ...m.problems] };
}

/** Exactly one problem, for app `/bad`, naming `label`; `/good` still served. */
function expectLeftOut(
  apps: unknown[],
  label: string | RegExp,
  message: RegExp,
  opts: Partial<ModelOptions> = {},
  files?: FileChecks,
): Problem {
  const m = model([...apps, app('/good', {}, 10999)], opts, files);
  expect(m.problems).toHaveLength(1);
  const p = m.problems[0]!;
  expect(p.appId.startsWith('/bad')).toBe(true);
  if (typeof label === 'string') expect(p.label).toBe(label);
  else expect(p.label).toMatch(label);
  expect(p.message).toMatch(message);
  expect(m.backends).toContain('good_10999');
  expect(m.backends.some((b) => b.startsWith('bad_'))).toBe(false);
  return p;
}

/** --dry of `apps` (written to a file) with `flags`. */
async function dryOf(apps: readonly unknown[], flags: readonly string[] = []) {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'apps.json');
    fs.writeFileSync(file, JSON.stringify({ apps }));
    return await dryRun(['--apps-file', file, '--group', 'external', ...flags]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('HAProxy word rules for label text (configText)', () => {
  test('plain text is printed unchanged (no allocation on the common path)', () => {
    const v = '/api/v1';
    expect(configText(v)).toBe(v);
  });
  test('$ inside double quotes is escaped; unquoted and single-quoted $ stay (HAProxy expands only in "...")', () => {
    expect(configText('"${SECRET}"')).toBe('"\\${SECRET}"');
    expect(configText('a"$HOME"b')).toBe('a"\\$HOME"b');
    expect(configText('$HOME')).toBe('$HOME');
    expect(configText("'$HOME'")).toBe("'$HOME'");
    expect(configText('already \\$ok')).toBe('already \\$ok');
  });
  test("a value printed inside the template's quotes (AUTH realm) gets every $ escaped and may not close the quote", () => {
    expect(configText('r${MARATHON_PASSWORD}', true)).toBe('r\\${MARATHON_PASSWORD}');
    expect(configText('a"b', true)).toEqual({ error: expect.stringMatching(/double quote/) });
  });
  test('a quote of the other kind inside quotes is a plain character, as HAProxy reads it', () => {
    expect(configText('"/it\'s"')).toBe('"/it\'s"');
    expect(configText('\'say "hi"\'')).toBe('\'say "hi"\'');
    expect(configText('"\'"x"\'"')).toBe('"\'"x"\'"');
    expect(configText("it's", true)).toBe("it's");
  });
  test('an unquoted # would comment out the rest of the template line: it is escaped', () => {
    expect(configText('/a#b')).toBe('/a\\#b');
    expect(configText('"/a#b"')).toBe('"/a#b"');
  });
  test.each([
    ['line feed', 'a\nb', /line breaks/],
    ['carriage return', 'a\rb', /line breaks/],
    ['NUL', 'a\0b', /line breaks/],
    ['unbalanced double quote', 'a"b', /unbalanced double/],
    ['unbalanced single quote', "a'b", /unbalanced single/],
    ['trailing backslash', 'a\\', /backslash/],
    ['escaped line feed', 'a\\nb', /escape/],
    ['hex line feed', 'a\\x0ab', /escape/],
  ])('refuses %s', (_n, v, message) => {
    const r = configText(v);
    expect(typeof r).toBe('object');
    expect((r as { error: string }).error).toMatch(message);
  });
  test('splitWords cuts like HAProxy', () => {
    expect(splitWords('-i /v1 "/a b" \'c d\' e\\ f')).toEqual(['-i', '/v1', '/a b', 'c d', 'e f']);
  });
});

describe('addresses', () => {
  test.each(['::1', '::', 'fe80::1', '2001:db8::8a2e:370:7334', '::ffff:10.0.0.1', '1:2:3:4:5:6:7:8'])('IPv6 %s', (v) =>
    expect(isIPv6(v)).toBe(true),
  );
  test.each([':::', '1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '10.0.0.1'])('not IPv6 %s', (v) =>
    expect(isIPv6(v)).toBe(false),
  );
  test.each([
    '*',
    '0.0.0.0',
    '127.0.0.1',
    '::1',
    '[::1]',
    'localhost',
    'lb-1.example.com',
    'ipv4@0.0.0.0',
    'ipv6@::',
    'ipv6@[::1]',
    '127.1',
    '1.2.3',
  ])('bind address %s', (v) => expect(isBindAddress(v)).toBe(true));
  test.each([
    ['127.1', '127.0.0.1'],
    ['1.2.3', '1.2.0.3'],
    ['167772161', '10.0.0.1'],
    ['010.0.0.1', '8.0.0.1'],
    ['10.65535', '10.0.255.255'],
    ['192.168.0.1', '192.168.0.1'],
  ])('%s is %s to HAProxy (inet_aton)', (short, dotted) => expect(dottedIPv4(short)).toBe(dotted));
  test.each(['256.1', '1.2.3.4.5', '10.', 'a.b', '08.0.0.1', '09'])('%s is no IPv4 address', (v) =>
    expect(dottedIPv4(v)).toBeUndefined(),
  );
  test.each(['300.1.1.1', 'bad host', '', 'a:b', '[10.0.0.1]', 'ipv4@::1', 'ipv6@1.2.3.4', 'ipv4@', 'unix@/x'])(
    'not a bind address %j',
    (v) => expect(isBindAddress(v)).toBe(false),
  );
  // The short forms: each was `haproxy -c`'d in an `acl n src` line (HAProxy 2.6), as were the refused ones.
  test.each([
    '10.0.0.0/8',
    '10.0.0.1',
    '10.0.0.0/255.0.0.0',
    'fe80::/10',
    '::1',
    '10.1',
    '10.1.2',
    '167772161',
    '4294967295',
    '10.65535',
    '010.0.0.1',
  ])('network %s', (v) => expect(isAddressOrNetwork(v)).toBe(true));
  test.each([
    '1.2.3.4/33',
    'fe80::/129',
    'x',
    '10.0.0.0/',
    '/8',
    '256.1',
    '10.',
    '0x0a000001',
    '1.2.3.4.5',
    '::ffff:10.1',
    // HAProxy reads `192.168/16` as 192.0.0.168/16 (a live check): short forms go without a prefix.
    '192.168/16',
    '10.1/8',
    '10.1/255.0.0.0',
    // A leading 0 is octal to inet_aton: HAProxy refused these.
    '08.0.0.1',
    '1.2.3.09',
  ])('not a network %s', (v) => expect(isAddressOrNetwork(v)).toBe(false));
});

describe('labels: the port is left out with one problem naming the label', () => {
  test.each([
    [
      'VHOST with a word after a space that is no host name',
      { HAPROXY_0_VHOST: 'a.example.com -i' },
      'HAPROXY_0_VHOST',
      /host names/,
    ],
    ['VHOST with a quote', { HAPROXY_0_VHOST: 'a"b.example.com' }, 'HAPROXY_0_VHOST', /host names/],
    ['VHOST with a brace', { HAPROXY_0_VHOST: 'a}.example.com' }, 'HAPROXY_0_VHOST', /host names/],
    ['VHOST with a log-format expression', { HAPROXY_0_VHOST: '%[env(HOME)]' }, 'HAPROXY_0_VHOST', /host names/],
    ['PATH with a line break', { HAPROXY_0_PATH: '/a\n  bind *:81' }, 'HAPROXY_0_PATH', /line breaks/],
    [
      'PATH with an ACL flag that loads a file',
      { HAPROXY_0_PATH: '-f /etc/passwd' },
      'HAPROXY_0_PATH',
      /unsupported ACL flag -f/,
    ],
    ['PATH with -m and no method', { HAPROXY_0_PATH: '-m' }, 'HAPROXY_0_PATH', /-m without a method/],
    ['BIND_ADDR that is no address', { HAPROXY_0_BIND_ADDR: '300.1.1.1' }, 'HAPROXY_0_BIND_ADDR', /IPv4 or IPv6/],
    ['BIND_ADDR with a quote left open', { HAPROXY_0_BIND_ADDR: '"127.0.0.1' }, 'HAPROXY_0_BIND_ADDR', /IPv4 or IPv6/],
    ['BIND_ADDR quoting a blank', { HAPROXY_0_BIND_ADDR: '"127.0.0.1 "' }, 'HAPROXY_0_BIND_ADDR', /IPv4 or IPv6/],
    [
      'BIND_ADDR of two quoted words',
      { HAPROXY_0_BIND_ADDR: '"127.0.0.1" "::1"' },
      'HAPROXY_0_BIND_ADDR',
      /IPv4 or IPv6/,
    ],
    [
      'BIND_ADDR that does not resolve',
      { HAPROXY_0_BIND_ADDR: 'no-such-host' },
      'HAPROXY_0_BIND_ADDR',
      /does not resolve/,
    ],
    [
      'NETWORK_ALLOWED_ACL entry',
      { HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: '10.0.0.0/8 300.1.1.1' },
      'HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL',
      /CIDR/,
    ],
    [
      'NETWORK_ALLOWED_ACL host name with a mask HAProxy refuses',
      { HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: 'localhost/33' },
      'HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL',
      /CIDR/,
    ],
    [
      'NETWORK_ALLOWED_ACL host name that does not resolve',
      { HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: '10.0.0.0/8 no-such-host' },
      'HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL',
      /no-such-host does not resolve/,
    ],
    [
      'BIND_OPTIONS keyword',
      { HAPROXY_0_BIND_OPTIONS: 'accept-proxy frobnicate' },
      'HAPROXY_0_BIND_OPTIONS',
      /unknown or unsupported bind keyword "frobnicate"/,
    ],
    [
      'BIND_OPTIONS argument',
      { HAPROXY_0_BIND_OPTIONS: 'backlog many' },
      'HAPROXY_0_BIND_OPTIONS',
      /backlog: "many" is not a positive integer/,
    ],
    [
      'BIND_OPTIONS ssl without a certificate',
      { HAPROXY_0_BIND_OPTIONS: 'ssl' },
      'HAPROXY_0_BIND_OPTIONS',
      /needs a certificate/,
    ],
    [
      'BIND_OPTIONS with an unbalanced quote',
      { HAPROXY_0_BIND_OPTIONS: "accept-proxy name 'x" },
      'HAPROXY_0_BIND_OPTIONS',
      /quotes balanced/,
    ],
    [
      'BIND_OPTIONS reading the environment inside double quotes',
      { HAPROXY_0_BIND_OPTIONS: 'name "${HOME}"' },
      'HAPROXY_0_BIND_OPTIONS',
      /no \$ inside double quotes/,
    ],
    [
      'BIND_OPTIONS with a backslash escape',
      { HAPROXY_0_BIND_OPTIONS: 'name a\\nb' },
      'HAPROXY_0_BIND_OPTIONS',
      /no backslashes/,
    ],
    [
      'BIND_OPTIONS commenting out the rest of the line',
      { HAPROXY_0_BIND_OPTIONS: "accept-proxy 'x'#y" },
      'HAPROXY_0_BIND_OPTIONS',
      /no backslashes, #/,
    ],
    [
      'BIND_OPTIONS with a quoted value that is no interface name',
      { HAPROXY_0_BIND_OPTIONS: "interface 'a b'" },
      'HAPROXY_0_BIND_OPTIONS',
      /interface: "a b" is not a name/,
    ],
    [
      'AUTH realm closing the quote',
      { HAPROXY_0_AUTH: 'r"x:u:p' },
      'HAPROXY_0_AUTH',
      /realm "r\\"x" must not contain a double quote/,
    ],
    ['AUTH password with a space', { HAPROXY_0_AUTH: 'r:u:p w' }, 'HAPROXY_0_AUTH', /realm:user/],
    ['AUTH password with a comment after it', { HAPROXY_0_AUTH: 'r:u:p #x' }, 'HAPROXY_0_AUTH', /realm:user/],
    [
      'AUTH password comment with a line break',
      { HAPROXY_0_AUTH: 'r:u:#x\n  bind *:81' },
      'HAPROXY_0_AUTH',
      /realm:user/,
    ],
    [
      'BALANCE uri with a word HAProxy does not know',
      { HAPROXY_0_BALANCE: 'uri everything' },
      'HAPROXY_0_BALANCE',
      /unknown balance/,
    ],
    [
      'HTTP_BACKEND_REDIR of two words',
      { HAPROXY_0_MODE: 'http', HAPROXY_0_HTTP_BACKEND_REDIR: '/a if TRUE' },
      'HAPROXY_0_HTTP_BACKEND_REDIR',
      /one word/,
    ],
    [
      'HTTP_BACKEND_REDIR reading the environment',
      { HAPROXY_0_MODE: 'http', HAPROXY_0_HTTP_BACKEND_REDIR: 'https://x/%[env(MLB_ADMIN_TOKEN)]' },
      'HAPROXY_0_HTTP_BACKEND_REDIR',
      /env\(\)/,
    ],
    [
      'HTTP_BACKEND_REDIR reading the environment through an escape',
      { HAPROXY_0_MODE: 'http', HAPROXY_0_HTTP_BACKEND_REDIR: '%\\x5benv(MLB_ADMIN_TOKEN)]' },
      'HAPROXY_0_HTTP_BACKEND_REDIR',
      /env\(\)/,
    ],
    [
      'HTTP_BACKEND_REDIR reading the environment with flags',
      { HAPROXY_0_MODE: 'http', HAPROXY_0_HTTP_BACKEND_REDIR: '%{+Q}[env(MLB_ADMIN_TOKEN)]' },
      'HAPROXY_0_HTTP_BACKEND_REDIR',
      /env\(\)/,
    ],
    [
      'HTTP_BACKEND_REDIR reading the environment after an escaped %',
      { HAPROXY_0_MODE: 'http', HAPROXY_0_HTTP_BACKEND_REDIR: '/100%%%[env(MLB_ADMIN_TOKEN)]' },
      'HAPROXY_0_HTTP_BACKEND_REDIR',
      /env\(\)/,
    ],
    [
      'PROXYPASS_PATH that is no path',
      { HAPROXY_0_MODE: 'http', HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH: '/a"b' },
      'HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH',
      /URL path/,
    ],
    [
      'REVPROXY_PATH with a regex group (it would renumber the rewrite)',
      { HAPROXY_0_MODE: 'http', HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH: '/a(b)' },
      'HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH',
      /URL path/,
    ],
    ['PORT 0', { HAPROXY_0_PORT: '0' }, 'HAPROXY_0_PORT', /outside 1..65535/],
    // Each of these made `haproxy -c` 2.6 refuse the whole config (found by an audit).
    ['PATH with a range backwards', { HAPROXY_0_PATH: '-m int 5:3' }, 'HAPROXY_0_PATH', /start is above its end/],
    [
      'PROXYPASS_PATH that breaks the rewrite regex',
      { HAPROXY_0_MODE: 'http', HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH: '/static/**' },
      'HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH',
      /makes a regex that has nothing for \* to repeat/,
    ],
    [
      'a vhost list with blanks as the Host header PROXYPASS_PATH sets',
      { HAPROXY_0_VHOST: 'a.example.com, b.example.com', HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH: '/api' },
      'HAPROXY_0_VHOST',
      /Host header .* no blanks/,
    ],
    [
      'a vhost that breaks the reverse-proxy regex',
      { HAPROXY_0_VHOST: '**.example.com', HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH: '/' },
      'HAPROXY_0_VHOST',
      /reverse-proxy Location regex/,
    ],
    ['AUTH with an empty realm', { HAPROXY_0_AUTH: ':bob:$6$abc$def' }, 'HAPROXY_0_AUTH', /realm that is not empty/],
    ['BALANCE random(0)', { HAPROXY_0_BALANCE: 'random(0)' }, 'HAPROXY_0_BALANCE', /unknown balance/],
    ['BALANCE uri len 0', { HAPROXY_0_BALANCE: 'uri len 0' }, 'HAPROXY_0_BALANCE', /unknown balance/],
    // HAProxy refuses the whole config for a line of more than 64 words.
    [
      'BALANCE of 64 words',
      { HAPROXY_0_BALANCE: Array(64).fill('roundrobin').join(' ') },
      'HAPROXY_0_BALANCE',
      /has more than 63 words/,
    ],
  ])('%s', (_n, labels, label, message) => {
    const p = expectLeftOut([app('/bad', labels)], label, message);
    expect(p.portIndex).toBe(0);
  });

  test.each([
    'uri path-only',
    'uri whole path-only len 5',
    'url_param id check_post 64',
    'hdr(host) use_domain_only',
    'leastconn ',
  ])('BALANCE %j is served (HAProxy 2.6 accepts it)', (balance) =>
    expect(model([app('/b', { HAPROXY_0_BALANCE: balance })])).toEqual({ backends: ['b_10001'], problems: [] }),
  );

  test.each([
    ['source\r', 'source'],
    ['source\r\n', 'source'],
    ['\tleastconn\f', 'leastconn'],
    ['uri\rwhole\vlen  5', 'uri whole len 5'],
    // No word is roundrobin to HAProxy; marathon-lb prints the empty label so (found by a migration check).
    ['', ''],
    [' \t ', ''],
  ])(
    'BALANCE %j is printed as the words HAProxy reads (%j): no CR or control character in the config',
    async (label, words) => {
      const dir = tempDir();
      try {
        const file = path.join(dir, 'apps.json');
        fs.writeFileSync(file, JSON.stringify({ apps: [app('/b', { HAPROXY_0_BALANCE: label })] }));
        const run = await dryRun(['--apps-file', file, '--group', 'external']);
        expect(run.stderr).toBe('');
        expect(run.stdout).toContain(`\nbackend b_10001\n  balance ${words}\n`);
        expect(run.stdout).not.toMatch(/[\r\v\f]/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test.each([
    [
      'use_backend',
      {
        HAPROXY_0_FRONTEND_HEAD:
          '\nfrontend {backend}\n  bind {bindAddr}:{servicePort}\n  mode http\n  use_backend stats\n',
      },
    ],
    [
      'default_backend',
      {
        HAPROXY_0_FRONTEND_HEAD:
          '\nfrontend {backend}\n  bind :{servicePort}\n  mode http\n  default_backend "stats"\n',
      },
    ],
    [
      'reqisetbe',
      {
        HAPROXY_0_FRONTEND_HEAD:
          '\nfrontend {backend}\n  bind :{servicePort}\n  mode http\n  reqisetbe ^Host:\\ x stats\n',
      },
    ],
    [
      'a constant HTTP_FRONTEND_ACL',
      { HAPROXY_0_VHOST: 'a.example.com', HAPROXY_0_HTTP_FRONTEND_ACL: '  use_backend stats\n' },
    ],
    [
      'a keyword spelled with an escape',
      { HAPROXY_0_VHOST: 'a.example.com', HAPROXY_0_HTTP_FRONTEND_ACL: '  \\x75se_backend stats\n' },
    ],
    [
      'a keyword spelled with quotes',
      { HAPROXY_0_VHOST: 'a.example.com', HAPROXY_0_HTTP_FRONTEND_ACL: "  use_''backend stats\n" },
    ],
  ])(
    "a label that routes to the operator's stats listen (%s) leaves its app out; another app's backend is fine",
    async (_, labels) => {
      const other = app(
        '/other',
        {
          HAPROXY_0_MODE: 'http',
          HAPROXY_0_FRONTEND_HEAD: '\nfrontend {backend}\n  bind :{servicePort}\n  mode http\n  use_backend b_10003\n',
        },
        10002,
      );
      const run = await dryOf([app('/a', labels), other, app('/b', { HAPROXY_0_MODE: 'http' }, 10003)]);
      expect(run.stderr).toMatch(
        /left out app \/a port index 0 label HAPROXY_0_\w+: .*sends requests to stats, a section of the operator's templates/,
      );
      expect(run.stderr).not.toMatch(/\/other/);
      expect(run.stdout).toContain('use_backend b_10003');
      expect(run.stdout).not.toMatch(/(?:use_backend|default_backend) "?stats/);
    },
  );

  test.each([
    ['a constant expression', '  use_backend %[str(stats)]\n'],
    ['a request header', '  use_backend %[req.hdr(x-b)] if {{ req.hdr(x-b) -m found }}\n'],
    ['a variable', '  http-request set-var(txn.b) str(stats)\n  use_backend %[var(txn.b)]\n'],
    ['a default backend from a header', '  default_backend %[req.hdr(x-b),lower]\n'],
    ['a flagged expression', '  use_backend %{{+E}}[str(stats)]\n'],
    ['the request method', '  use_backend %HM\n'],
  ])(
    'a label whose backend is named when a request comes (%s) leaves its app out: it could name the stats listen',
    async (_, line) => {
      const head = `\nfrontend {backend}\n  bind :{servicePort}\n  mode http\n${line}`;
      const run = await dryOf([
        app('/a', { HAPROXY_0_FRONTEND_HEAD: head }),
        app('/b', { HAPROXY_0_MODE: 'http' }, 10003),
      ]);
      expect(run.stderr).toMatch(
        /left out app \/a port index 0 label HAPROXY_0_FRONTEND_HEAD: .*a backend named when a request comes/,
      );
      expect(run.stdout).toContain('backend b_10003');
      expect(run.stdout).not.toMatch(/(?:use_backend|default_backend) %\[/);
    },
  );

  test("a label's lookup in the controller's own map, as marathon-lb's MAP templates write it, is served", async () => {
    const own = '  use_backend %[req.hdr(host),lower,regsub(:.*$,,),map({haproxy_dir}/domain2backend.map)]\n';
    const run = await dryOf(
      [app('/m', { HAPROXY_0_VHOST: 'm.example.com', HAPROXY_0_HTTP_FRONTEND_ACL: own })],
      ['--haproxy-map'],
    );
    expect(run.stderr).not.toMatch(/left out/);
    expect(run.stdout).toMatch(
      /use_backend %\[req\.hdr\(host\),lower,regsub\(:\.\*\$,,\),map\(\S+\/domain2backend\.map\)\]/,
    );
  });

  test.each(['source\u00a0', 'uri\nwhole', '\u2028source'])(
    'BALANCE %j is left out: HAProxy reads neither a no-break space nor a line break as a blank',
    (label) => void expectLeftOut([app('/bad', { HAPROXY_0_BALANCE: label })], 'HAPROXY_0_BALANCE', /unknown balance/),
  );

  test('a no-break space is part of a word to HAProxy (its blanks are ASCII): such a health-check path and AUTH user are served', () => {
    const hc = [{ protocol: 'HTTP', path: '/h\u00a0x\u2028', portIndex: 0 }];
    expect(
      model([
        app('/hc', { HAPROXY_0_MODE: 'http' }, 10001, { healthChecks: hc }),
        app('/auth', { HAPROXY_0_VHOST: 'a.example.com', HAPROXY_0_AUTH: 'realm:us\u00a0er:$1$x$y' }, 10002),
      ]),
    ).toEqual({ backends: ['auth_10002', 'hc_10001'], problems: [] });
  });

  test("proxy-pass and reverse-proxy paths take RFC 3986's path characters (but $, ( and ))", () => {
    const path = "/api+v2/a:b@c,d=e!f;g&h'i*j%20k~l";
    const m = model([
      app('/pp', { HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH: path, HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH: path }),
    ]);
    expect(m).toEqual({ backends: ['pp_10001'], problems: [] });
  });

  test('a BACKEND_NETWORK_ALLOWED_ACL of blanks is no restriction (no allow/deny rules naming an undefined ACL)', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'apps.json');
      fs.writeFileSync(file, JSON.stringify({ apps: [app('/a', { HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: ' \t ' })] }));
      const run = await dryRun(['--apps-file', file, '--group', 'external']);
      expect(run.stderr).toBe('');
      expect(run.stdout).not.toContain('network_allowed');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a deployment group routed under another app's name is left out naming its member apps, not that app", async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'apps.json');
      const apps = [
        app('/multi', {}, 10020),
        app('/zzz-blue', { HAPROXY_DEPLOYMENT_GROUP: 'multi', HAPROXY_0_PORT: '10020' }, 10021),
        app('/zzz-green', { HAPROXY_DEPLOYMENT_GROUP: 'multi', HAPROXY_0_PORT: '10020' }, 10022),
      ];
      fs.writeFileSync(file, JSON.stringify({ apps }));
      const run = await dryRun(['--apps-file', file, '--group', 'external']);
      expect(run.code).toBe(0);
      const warnings = run.stderr.trim().split('\n');
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toMatch(
        /left out app \/zzz-blue field id: backend name multi_10020 is already used .*\(deployment group \/multi\)$/,
      );
      expect(warnings[1]).toMatch(/left out app \/zzz-green field id:/);
      expect(run.stdout).toContain('server 10_0_0_1_31000 ');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ['declares', (port: number) => app('/ok', { HAPROXY_0_VHOST: 'ok.example.com' }, port)],
    ['chooses with a label', (port: number) => app('/ok', { HAPROXY_0_PORT: String(port) }, 10500)],
  ])('a port assigned to an IP-per-task app is never one another app %s (both are served)', (_n, other) => {
    const ipPerTask = app('/a', {}, 10001, {
      portDefinitions: undefined,
      ipAddress: { networkName: 'dcos', discovery: { ports: [{ number: 8080 }] } },
      tasks: [
        { id: 'a.1', host: '10.0.0.2', ports: [], ipAddresses: [{ ipAddress: '10.0.0.5' }], state: 'TASK_RUNNING' },
      ],
    });
    const range = { servicePortRange: { min: 10050, max: 10100 } };
    // The port the range would give /a alone (upstream's hash), then the same with another app holding it.
    const alone = model([ipPerTask], range).backends;
    expect(alone).toHaveLength(1);
    const hashed = Number(alone[0]!.split('_').pop());
    const both = model([other(hashed), ipPerTask], range);
    expect(both.problems).toEqual([]);
    expect(both.backends).toHaveLength(2);
    expect(both.backends).toContain(`ok_${hashed}`);
    expect(both.backends.find((b) => b.startsWith('a_'))).not.toBe(`a_${hashed}`);
  });

  const ipPerTaskApp = (id: string, labels: Record<string, string> = {}): Record<string, unknown> =>
    app(id, labels, 10001, {
      portDefinitions: undefined,
      ipAddress: { networkName: 'dcos', discovery: { ports: [{ number: 8080 }] } },
      tasks: [{ id: `${id}.1`, host: '10.0.0.2', ports: [], ipAddresses: [{ ipAddress: '10.0.0.5' }] }],
    });

  test('a HAPROXY_{n}_PORT that binds nothing takes no port from the IP-per-task range', () => {
    const range = { servicePortRange: { min: 10050, max: 10052 } };
    const alone = model([ipPerTaskApp('/web')], range).backends;
    const hashed = Number(alone[0]!.split('_').pop());
    const label = { HAPROXY_0_PORT: String(hashed) };
    const hogs = [
      app('/hog-other-group', { ...label, HAPROXY_GROUP: 'some-other-team' }, 10500),
      app('/hog-no-tasks', label, 10501, { tasks: [] }),
      app('/hog-no-such-port', { HAPROXY_5_PORT: ` ${hashed} ` }, 10502),
      app('/hog-port-group', { ...label, HAPROXY_0_GROUP: 'internal' }, 10503),
    ];
    const m = model([...hogs, ipPerTaskApp('/web')], range);
    expect(m.backends).toContain(`web_${hashed}`);
    expect(m.problems).toEqual([]);
    // A label that does bind the port still keeps it from the range (the test above).
  });

  test('an IP-per-task app keeps the port it holds in the running config; a new app whose hash lands on it takes another', () => {
    const range = {
      groups: ['external'],
      strictMode: false,
      healthCheck: false,
      servicePortRange: { min: 10050, max: 10052 },
    };
    const build = (apps: unknown[], portHolders?: ReadonlyMap<number, readonly string[]>): string[] => {
      const parsed = parseAppsJson({ apps });
      if (!parsed.ok) throw new Error(parsed.error);
      return toModel(parsed.value.apps, range, { resolve, ...(portHolders ? { portHolders } : {}) }).services.map(
        (s) => s.backend,
      );
    };
    const held = build([ipPerTaskApp('/m1')])[0]!;
    const port = Number(held.split('_').pop());
    // An id that sorts first and hashes to the same port (one in three does, with three ports).
    const id = Array.from({ length: 100 }, (_, k) => `/a${k}`).find((a) =>
      build([ipPerTaskApp(a)])[0]!.endsWith(`_${port}`),
    )!;
    const newcomer = `${id.slice(1)}_${port}`;
    // marathon-lb's order: the newcomer takes it, and the running app moves.
    expect(build([ipPerTaskApp(id), ipPerTaskApp('/m1')])).toContain(newcomer);
    const kept = build([ipPerTaskApp(id), ipPerTaskApp('/m1')], new Map([[port, [held]]]));
    expect(kept).toContain(held);
    expect(kept).not.toContain(newcomer);
    expect(kept).toHaveLength(2);
  });

  test('IP-per-task apps past the end of the port range are each named, not dropped silently', () => {
    const ipPerTask = (id: string, group = 'external'): Record<string, unknown> =>
      app(id, { HAPROXY_GROUP: group }, 10001, {
        portDefinitions: undefined,
        ipAddress: { networkName: 'dcos', discovery: { ports: [{ number: 8080 }] } },
        tasks: [{ id: `${id}.1`, host: '10.0.0.2', ports: [], ipAddresses: [{ ipAddress: '10.0.0.5' }] }],
      });
    const apps = Array.from({ length: 6 }, (_, i) => ipPerTask(`/ipt-${i}`));
    // An app of another group takes a port too (as upstream assigns them), but is not ours to name.
    const m = model([ipPerTask('/elsewhere', 'internal'), ...apps], { servicePortRange: { min: 10050, max: 10053 } });
    expect(m.backends).toHaveLength(3);
    expect(m.problems.map((p) => [p.appId, p.portIndex, p.label])).toEqual([
      ['/ipt-3', 0, 'servicePort'],
      ['/ipt-4', 0, 'servicePort'],
      ['/ipt-5', 0, 'servicePort'],
    ]);
    expect(m.problems[0]!.message).toBe(
      'no service port left for IP-per-task apps: 10050-10053 are all taken (raise --max-serv-port-ip-per-task)',
    );
  });

  // A differential check against marathon-lb: it printed these, HAProxy read them, and the app's service
  // port routed (the vhost's ACL never matches a name no client sends). They were left out whole here.
  test('a vhost no client sends is served as marathon-lb serves it: longer than DNS allows, not in its ASCII form, a bare IPv6', () => {
    for (const vhost of [
      `${'a'.repeat(300)}.com`,
      'été.example.com',
      '::1',
      'a.example.com:',
      `${'a'.repeat(249)}.com:8080`,
    ])
      expect(model([app('/ok', { HAPROXY_0_VHOST: vhost })])).toEqual({ backends: ['ok_10001'], problems: [] });
    expectLeftOut([app('/bad', { HAPROXY_0_VHOST: 'a.example.com,-m' })], 'HAPROXY_0_VHOST', /"-m" as an ACL flag/);
    // HAProxy refused `use_backend … if { ssl_fc_sni or }` (an audit): alone, `or` and `and` are operators to it.
    for (const word of ['or', 'AND'])
      expectLeftOut(
        [app('/bad', { HAPROXY_0_VHOST: `a.example.com,${word}` })],
        'HAPROXY_0_VHOST',
        /alone as an operator/,
      );
  });

  test('a long hostile value is cut in the message', () => {
    const p = expectLeftOut([app('/bad', { HAPROXY_0_VHOST: `${'x'.repeat(5000)}"y` })], 'HAPROXY_0_VHOST', /\.\.\./);
    expect(p.message.length).toBeLessThan(300);
  });

  test.each(['/100%%[env(HOME)]', '/a%%%%[x]', '/a%%{+Q}[x]'])(
    'HTTP_BACKEND_REDIR %j is served: %% is a literal % in a log-format string, so no expression follows',
    (redir) =>
      expect(model([app('/r', { HAPROXY_0_HTTP_BACKEND_REDIR: redir })])).toEqual({
        backends: ['r_10001'],
        problems: [],
      }),
  );

  test('values marathon-lb renders and HAProxy accepts are served as they were', () => {
    const m = model([
      app('/ok', {
        HAPROXY_0_VHOST: 'a.example.com,b.example.com',
        HAPROXY_0_PATH: '-i /v1 /v2',
        HAPROXY_0_BIND_ADDR: '127.0.0.1',
        HAPROXY_0_BIND_OPTIONS: 'accept-proxy',
        HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: '10.0.0.0/8 192.168.0.0/16',
        HAPROXY_0_AUTH: 'my realm:alice:$6$mlbsalt1$6rWuGWP',
        HAPROXY_0_BALANCE: 'source',
        HAPROXY_0_HTTP_BACKEND_REDIR: '/landing',
      }),
    ]);
    expect(m.problems).toEqual([]);
    expect(m.backends).toEqual(['ok_10001']);
  });
});

// A differential fuzz against marathon-lb: it prints these in http mode only, and such a tcp port was left out.
describe('labels of http mode only are not judged on a tcp port, where marathon-lb prints none of them', () => {
  test.each([
    ['HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH', 'api'],
    ['HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH', 'api/'],
    ['HAPROXY_0_HTTP_BACKEND_REDIR', '/a b'],
  ])('%s %j on a tcp port: served', (label, value) => {
    const m = model([app('/tcp', { [label]: value }, 10001)]);
    expect(m.problems).toEqual([]);
    expect(m.backends).toEqual(['tcp_10001']);
    const http = model([app('/web', { [label]: value, HAPROXY_0_VHOST: 'web.example.com' }, 10002)]);
    expect(http.problems.map((p) => p.label)).toEqual([label]);
  });
});

describe("integer labels read as Python's int() reads them", () => {
  test.each([
    ['8_080', 8080],
    [' +8080 ', 8080],
    ['1_0_0_0_1', 10001],
  ])('PORT %j is service port %d', (text, port) => {
    const m = model([app('/a', { HAPROXY_0_PORT: text })]);
    expect(m.problems).toEqual([]);
    expect(m.backends).toEqual([`a_${port}`]);
  });
  test.each([
    ['\u0085 8_080\u3000', 8080],
    ['-0_1', -1],
    ['0000000000000008088', 8088],
    // Past 2^53: only an order, which Python reads exactly and a double nearly (marathon-lb serves it).
    ['100000000000000000000', 1e20],
    ['-9_007_199_254_740_993', -9007199254740992],
  ])('BACKEND_WEIGHT %j is weight %d', (text, weight) => {
    const m = parseAppsJson({ apps: [app('/a', { HAPROXY_0_BACKEND_WEIGHT: text })] });
    if (!m.ok) throw new Error(m.error);
    const built = toModel(m.value.apps, OPTS, { resolve });
    expect(built.problems).toEqual([]);
    expect(built.services[0]!.backendWeight).toBe(weight);
  });
  test.each(['8__080', '_8080', '8080_', '8_', '80 80', '\ufeff8080', '８０８０', '8080abc', '100000000000000000000'])(
    'PORT %j is not an integer',
    (text) => {
      expectLeftOut([app('/bad', { HAPROXY_0_PORT: text })], 'HAPROXY_0_PORT', /is not an integer/);
    },
  );
});

describe('SSL_CERT and crt files are checked through the injected FileChecks', () => {
  let dir: string;
  let pem: string;
  beforeAll(() => {
    dir = tempDir('mlb-validation-');
    pem = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=t',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'crt.pem'),
      ],
      { stdio: 'pipe' },
    );
    fs.writeFileSync(
      pem,
      fs.readFileSync(path.join(dir, 'crt.pem'), 'utf8') + fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  /** A directory holding a sparse file of 65 MiB (no disk used), made once. */
  const bigDirectory = (): string => {
    const at = path.join(dir, 'big');
    if (!fs.existsSync(at)) {
      fs.mkdirSync(at);
      fs.writeFileSync(path.join(at, 'big.pem'), '');
      fs.truncateSync(path.join(at, 'big.pem'), 65 * 2 ** 20);
    }
    return at;
  };
  /** A symbolic link to /dev/zero, made once. */
  const deviceLink = (): string => {
    const at = path.join(dir, 'zero.pem');
    if (!fs.existsSync(at)) fs.symlinkSync('/dev/zero', at);
    return at;
  };
  /** A FIFO nothing writes to, made once. */
  const fifo = (): string => {
    const at = path.join(dir, 'fifo.pem');
    if (!fs.existsSync(at)) execFileSync('mkfifo', [at]);
    return at;
  };

  test('a loadable PEM (certificate + key) is accepted, by label and as a bind option', () => {
    const files = fileChecks();
    expect(
      model([app('/a', { HAPROXY_0_SSL_CERT: pem, HAPROXY_0_BIND_OPTIONS: `ssl crt ${pem}` })], {}, files).problems,
    ).toEqual([]);
  });
  test('a certificate without its key is refused', () => {
    expectLeftOut(
      [app('/bad', { HAPROXY_0_SSL_CERT: path.join(dir, 'crt.pem') })],
      'HAPROXY_0_SSL_CERT',
      /no private key/,
      {},
      fileChecks(),
    );
  });
  test('a missing file is refused', () => {
    expectLeftOut(
      [app('/bad', { HAPROXY_0_SSL_CERT: path.join(dir, 'nope.pem') })],
      'HAPROXY_0_SSL_CERT',
      /ENOENT/,
      {},
      fileChecks(),
    );
  });
  // Each held the controller (a FIFO's open waits for a writer) or filled its memory (found by an attack).
  test.each([
    ['/dev/zero', () => '/dev/zero', /not a regular file/],
    ['a FIFO', () => fifo(), /not a regular file/],
    ['a link to a device', () => deviceLink(), /not a regular file/],
    ['a file of /proc that blocks', () => '/proc/kmsg', /EAGAIN|EACCES|EPERM/],
  ])('a certificate label naming %s leaves its port out at once', (_n, target, message) => {
    expectLeftOut([app('/bad', { HAPROXY_0_SSL_CERT: target() })], 'HAPROXY_0_SSL_CERT', message, {}, fileChecks());
    expectLeftOut(
      [app('/bad', { HAPROXY_0_BIND_OPTIONS: `ssl crt ${pem} ca-file ${target()}` })],
      'HAPROXY_0_BIND_OPTIONS',
      message,
      {},
      fileChecks(),
    );
  });
  test.each([
    ['crt /dev/zero on a bind line', '\nfrontend {backend}\n  bind {bindAddr}:{servicePort} ssl crt /dev/zero\n'],
    ['a FIFO, quoted in parts', '\nfrontend {backend}\n  bind {bindAddr}:{servicePort} ssl crt "FIFO"\n'],
    ['a directory of /proc', '\nfrontend {backend}\n  bind {bindAddr}:{servicePort} ssl crt /proc/self/fd/\n'],
  ])('a template label naming %s leaves its port out (haproxy -c would read it until its timeout)', (_n, text) => {
    expectLeftOut(
      [app('/bad', { HAPROXY_0_FRONTEND_HEAD: text.replace('FIFO', fifo()) })],
      'HAPROXY_0_FRONTEND_HEAD',
      /^names \/.*, which is (a device, a pipe or \/dev|under \/proc or \/sys)/,
      {},
      fileChecks(),
    );
  });
  // Found by a second attack: a relative path, a path from a placeholder and a crt directory got past the check.
  test.each([
    ['a FIFO by a relative path after crt', () => `crt ${path.relative(process.cwd(), fifo())}`],
    ['a FIFO by a relative path after ca-file', () => `ssl crt ${pem} ca-file ${path.relative(process.cwd(), fifo())}`],
    ['a path under /proc a placeholder completes', () => 'ssl crt /proc/self/{hostname}'],
    ['a crt directory of more than 64 MiB', () => `ssl crt ${bigDirectory()}`],
  ])('a template label naming %s leaves its port out', (_n, words) => {
    expectLeftOut(
      [
        app('/bad', {
          HAPROXY_0_VHOST: 'zero',
          HAPROXY_0_FRONTEND_HEAD: `\nfrontend {backend}\n  bind {bindAddr}:{servicePort} ${words()}\n`,
        }),
      ],
      'HAPROXY_0_FRONTEND_HEAD',
      /^names .*, which is (a device|under \/proc|a directory of more than 64 MiB)/,
      {},
      fileChecks(),
    );
  });
  test('a file a placeholder completes is checked once it is filled in (the backend names a FIFO)', async () => {
    const apps = path.join(dir, 'apps.json');
    const named = path.join(dir, 'bad_10001');
    if (!fs.existsSync(named)) execFileSync('mkfifo', [named]);
    const label = `\nfrontend {backend}\n  bind {bindAddr}:{servicePort} ssl crt ${dir}/{backend}\n  mode {mode}\n`;
    fs.writeFileSync(
      apps,
      JSON.stringify({ apps: [app('/bad', { HAPROXY_0_FRONTEND_HEAD: label }), app('/good', {}, 10999)] }),
    );
    const run = await dryRun(['--apps-file', apps, '--group', 'external', '--ssl-certs', pem]);
    expect(run.stderr).toContain(
      `label HAPROXY_0_FRONTEND_HEAD: with its placeholders filled in, it names ${named}, which is a device, a pipe or /dev`,
    );
    expect(run.stdout).not.toContain('bad_10001');
    expect(run.stdout).toContain('backend good_10999');
  });
  test('a template label naming a socket (a log target), /dev/null or a regular file is served', () => {
    const text = `\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  log /dev/log local0\n  # /dev/null ${pem}\n`;
    expect(model([app('/a', { HAPROXY_0_BACKEND_HEAD: text })], {}, fileChecks()).problems).toEqual([]);
  });
  test('a certificate the operator configured (--ssl-certs) is not checked again', () => {
    expect(
      model(
        [app('/a', { HAPROXY_0_SSL_CERT: '/etc/ssl/cert.pem' })],
        { operatorCerts: ['/etc/ssl/cert.pem'] },
        fileChecks(),
      ).problems,
    ).toEqual([]);
  });
  test('each path is read once per FileChecks', () => {
    let reads = 0;
    const files = fileChecks((p) => {
      reads++;
      return fs.readFileSync(p, 'utf8');
    });
    model([app('/a', { HAPROXY_0_SSL_CERT: pem }, 10001), app('/b', { HAPROXY_0_SSL_CERT: pem }, 10002)], {}, files);
    expect(reads).toBe(1);
  });
  test('a crt directory is loaded as HAProxy loads it: every file but hidden ones and companions must be a certificate', () => {
    const certs = path.join(dir, 'certs');
    fs.mkdirSync(certs);
    fs.copyFileSync(pem, path.join(certs, 'a.pem'));
    fs.writeFileSync(path.join(certs, '.hidden'), 'not a certificate');
    fs.writeFileSync(path.join(certs, 'a.pem.ocsp'), 'not a certificate');
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    expect(fileChecks().certificate(certs)).toBeNull();
    expect(fileChecks().certificate(empty)).toMatch(/directory without a certificate file/);
    fs.writeFileSync(path.join(certs, 'readme.txt'), 'junk');
    // The directory is named, not its entries: the label's owner did not name them.
    const why = fileChecks().certificate(certs);
    expect(why).toBe(
      `${certs} is a directory with a file that is not a certificate and its private key (HAProxy loads each file there)`,
    );
  });
  test.each([
    ['ciphers FOO', /OpenSSL takes none of it/],
    ['ciphers HIGH:!HIGH', /OpenSSL takes none of it/],
    ['ciphers TLS_AES_128_GCM_SHA256', /belong in ciphersuites/],
    ['ciphersuites FOO', /no TLS 1.3 suite/],
    ['curves X25519:FOO', /OpenSSL takes none of it/],
    ['ciphers ECDHE-RSA-AES128-GCM-SHA256:FOO', null],
    ['ciphersuites TLS_AES_128_GCM_SHA256:FOO', null],
  ])('OpenSSL lists as HAProxy takes them (checked with haproxy -c): %j', (options, why) => {
    const r = checkBindOptions(options, fileChecks(), false);
    if (why === null) expect(r).toBeNull();
    else expect(r).toMatch(why);
  });
  test('bind options that need files: ca-file must be PEM, verify needs a ca-file', () => {
    const files = fileChecks();
    expect(checkBindOptions(`ssl crt ${pem} verify required ca-file ${pem}`, files, false)).toBeNull();
    expect(checkBindOptions(`ssl crt ${pem} verify required`, files, false)).toMatch(/needs a ca-file/);
    expect(checkBindOptions('ca-file /nonexistent', files, false)).toMatch(/ENOENT/);
  });
  test('a crt-list is judged line by line; a line at fault is named by its number in the file, never quoted', () => {
    const lines = ['# certificates', '', '/etc/ssl/good.pem [alpn h2] a.example.com', 'root:x:0:0:secret-ish'];
    const files: FileChecks = {
      certificate: (p) => (p === '/etc/ssl/good.pem' ? null : `${p} is not an absolute path`),
      pemFile: () => null,
      crtListLines: () => lines,
    };
    const why = checkBindOptions('ssl crt-list /etc/ssl/list.txt', files, false);
    expect(why).toBe(
      'bind keyword crt-list: /etc/ssl/list.txt, line 4: names no certificate and private key HAProxy can load',
    );
    expect(
      checkBindOptions('ssl crt-list /etc/ssl/list.txt', { ...files, crtListLines: () => lines.slice(0, 3) }, false),
    ).toBeNull();
    expect(
      checkBindOptions('ssl crt-list /x', { ...files, crtListLines: () => ['# only a comment', ''] }, false),
    ).toMatch(/lists no certificate/);
  });
  // Each refused value makes `haproxy -c` 2.6 refuse the whole config (found by an audit).
  const host: FileChecks = {
    certificate: () => null,
    pemFile: () => null,
    knowsName: (kind, name) => (kind === 'user' ? name === 'haproxy' : name === 'adm'),
    threads: () => 2,
  };
  test.each([
    ['thread 1-2', null],
    ['thread even', null],
    ['thread 1/2', null],
    ['thread 64', /not among the 2 HAProxy runs here/],
    ['thread 2/1', /thread group 2 does not exist/],
    ['process 2', /not one of/],
    ['nice 5000', /-1024..1024/],
    ['tcp-ut 24d', null],
    ['tcp-ut 999999999d', /longer than HAProxy's timers/],
    ['mss 70000', /MSS/],
    ['id 5 id 6', /id is given twice/],
    ['maxconn 5 maxconn 6 accept-proxy accept-proxy', null],
    ['user haproxy group adm', null],
    ['user nosuchuser', /no user "nosuchuser"/],
    ['group nosuchgroup', /no group "nosuchgroup"/],
    ['ssl crt /c.pem force-sslv3', /SSLv3 is not available/],
    ['ssl crt /c.pem ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.2', /above ssl-max-ver/],
    ['ssl crt /c.pem force-tlsv12 ssl-min-ver TLSv1.3', /outside ssl-min-ver/],
    ['ssl crt /c.pem no-tlsv11 no-tlsv12 no-tlsv13', /leave only TLS 1.0/],
    ['ssl crt /c.pem force-tlsv10', null],
    ['ssl crt /c.pem ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3', null],
  ])('bind options %j', (options, why) => {
    const r = checkBindOptions(options, host, false);
    if (why === null) expect(r).toBeNull();
    else expect(r).toMatch(why);
  });
});

describe('Marathon fields', () => {
  test('wrong types and nulls leave only that app out (the snapshot is not rejected)', () => {
    const m = model([{ ...app('/bad'), labels: { HAPROXY_GROUP: 1 } }, app('/good', {}, 10999)]);
    expect(m.problems).toEqual([expect.objectContaining({ appId: '/bad', label: 'labels.HAPROXY_GROUP' })]);
    expect(m.backends).toEqual(['good_10999']);
  });
  test.each([
    ['tasks not an array', { tasks: 'x' }, 'tasks'],
    ['task ports not integers', { tasks: [{ id: 't', host: '10.0.0.1', ports: ['31000'] }] }, 'tasks[0].ports'],
    [
      'portMappings not an array',
      { container: { docker: { network: 'BRIDGE', portMappings: 7 } } },
      'container.docker.portMappings',
    ],
    [
      'portMappings [null]',
      { container: { docker: { network: 'BRIDGE', portMappings: [null] } } },
      'container.docker.portMappings',
    ],
    ['healthChecks [null]', { healthChecks: [null] }, 'healthChecks'],
    [
      'ipAddresses not an array',
      { tasks: [{ id: 't', host: '10.0.0.1', ports: [1], ipAddresses: 'x' }] },
      'tasks[0].ipAddresses',
    ],
  ])('%s', (_n, extra, label) => {
    expectLeftOut([{ ...app('/bad'), ...extra }], label, /must/);
  });
  test("a null label is absent, as marathon-lb's cleanup_json drops it; another value beside it is still named", () => {
    const m = model([
      // As Marathon's JSON parses: `__proto__` an own key.
      app(
        '/a',
        JSON.parse('{"HAPROXY_0_VHOST": null, "HAPROXY_0_MODE": "http", "__proto__": "x"}') as Record<string, string>,
      ),
      { ...app('/bad', {}, 10002), labels: { HAPROXY_GROUP: 'external', X: null, HAPROXY_0_PORT: 7 } },
    ]);
    expect(m.backends).toEqual(['a_10001']);
    expect(m.problems).toEqual([expect.objectContaining({ appId: '/bad', label: 'labels.HAPROXY_0_PORT' })]);
  });
  test('healthCheckResults: null counts as no results; [null] entries are dropped', () => {
    const tasks = [
      { id: 'a.1', host: '10.0.0.1', ports: [31000], healthCheckResults: null },
      { id: 'a.2', host: '10.0.0.2', ports: [31000], healthCheckResults: [null, { alive: true }] },
    ];
    const m = model([app('/a', {}, 10001, { tasks, healthChecks: [{ protocol: 'TCP', portIndex: 0 }] })], {
      healthCheck: true,
    });
    expect(m.problems).toEqual([]);
    expect(m.backends).toEqual(['a_10001']);
  });
  test.each([
    ['host', { host: '[::1]', ports: [31001] }, {}, 'tasks[1].host', /must be a host name or an IP address/],
    [
      'container IP',
      { host: 'h2', ports: [1], ipAddresses: [{ ipAddress: 'fe80::1%eth0' }] },
      { ipAddress: { discovery: { ports: [{ number: 8080 }] } } },
      'tasks[1].ipAddresses[0].ipAddress',
      /must be an IPv4 or IPv6 address/,
    ],
  ])(
    "a task's unusable %s leaves out that task only; the app's other tasks are served",
    (_n, bad, extra, label, why) => {
      const good = { id: 'a.1', host: '10.0.0.1', ports: [31000], ipAddresses: [{ ipAddress: '10.1.0.1' }] };
      const tasks = [good, { id: 'a.2', ...bad }, { id: 'a.3', ...bad }];
      const parsed = parseAppsJson({ apps: [app('/a', {}, 10001, { tasks, ...extra })] });
      if (!parsed.ok) throw new Error(parsed.error);
      const m = toModel(parsed.value.apps, OPTS, { resolve });
      expect(m.services.map((s) => [s.backend, s.servers.length])).toEqual([['a_10001', 1]]);
      expect(m.problems).toHaveLength(1);
      expect(m.problems[0]).toMatchObject({ appId: '/a', label });
      expect(m.problems[0]!.message).toMatch(why);
      expect(m.problems[0]!.message).toMatch(/2 such tasks are left out, the app's other tasks are served$/);
    },
  );
  test.each<[string, Record<string, string>, number, Record<string, unknown>, string]>([
    ['an unreadable label', { HAPROXY_0_MODE: 'udp' }, 10001, {}, 'HAPROXY_0_MODE'],
    ['a service port out of range', {}, 0, {}, 'servicePort'],
    [
      'a health check path HAProxy refuses',
      {},
      10001,
      { healthChecks: [{ protocol: 'HTTP', portIndex: 0, path: '/a b c' }] },
      'healthChecks[0].path',
    ],
  ])(
    "%s of a port this marathon-lb does not serve is not its to report; the group's own instance names it",
    (_n, labels, port, extra, label) => {
      const others: Record<string, string>[] = [
        { HAPROXY_GROUP: 'internal' },
        { HAPROXY_0_GROUP: 'internal' },
        { HAPROXY_0_ENABLED: 'false' },
      ];
      for (const groupLabels of others) {
        const apps = [app('/bad', { ...groupLabels, ...labels }, port, extra)];
        expect(model(apps).problems).toEqual([]);
      }
      expect(
        model([app('/bad', { HAPROXY_0_GROUP: 'internal', ...labels }, port, extra)], { groups: ['internal'] })
          .problems,
      ).toMatchObject([{ appId: '/bad', label }]);
      expect(
        model([app('/bad', { HAPROXY_0_GROUP: 'internal', ...labels }, port, extra)], { groups: ['*'] }).problems,
      ).toMatchObject([{ appId: '/bad', label }]);
    },
  );
  test("a task's own port outside 1..65535 leaves out that task only; the app's other tasks are served", () => {
    const tasks = [
      { id: 'a.1', host: '10.0.0.1', ports: [31000, 31001] },
      { id: 'a.2', host: '10.0.0.2', ports: [0, 31001] },
      { id: 'a.3', host: '10.0.0.3', ports: [70000, 31001] },
    ];
    const parsed = parseAppsJson({
      apps: [app('/a', {}, 10001, { tasks, portDefinitions: [{ port: 10001 }, { port: 10002 }] })],
    });
    if (!parsed.ok) throw new Error(parsed.error);
    const m = toModel(parsed.value.apps, OPTS, { resolve });
    expect(m.services.map((s) => [s.backend, s.servers.map((v) => v.ip)])).toEqual([
      ['a_10001', ['10.0.0.1']],
      ['a_10002', ['10.0.0.1', '10.0.0.2', '10.0.0.3']],
    ]);
    expect(m.problems).toEqual([
      {
        appId: '/a',
        portIndex: 0,
        label: 'tasks[1].ports[0]',
        message: "port 0 is outside 1..65535: 2 such tasks are left out, the app's other tasks are served",
      },
    ]);
  });
  test("a task whose JSON has the wrong shape is left out alone (named once); the app's other tasks are served", () => {
    const tasks = [
      { id: 'a.1', host: '10.0.0.1', ports: [31000] },
      { id: 'a.2', host: '10.0.0.2', ports: [1.5] },
      { id: 'a.3', host: 7, ports: [31002] },
      { id: 'a.4', host: '10.0.0.4', ports: [31003], healthCheckResults: null },
    ];
    const m = model([app('/a', {}, 10001, { tasks })]);
    expect(m.backends).toEqual(['a_10001']);
    expect(m.problems).toEqual([
      {
        appId: '/a',
        portIndex: null,
        label: 'tasks[1].ports',
        message: "must be an array of integers: 2 such tasks are left out, the app's other tasks are served",
      },
    ]);
    const parsed = parseAppsJson({ apps: [app('/a', {}, 10001, { tasks })] });
    expect(parsed.ok && parsed.value.apps[0]!.tasks.map((t) => t.id)).toEqual(['a.1', 'a.4']);
  });
  test('ipAddresses [null] is a task without an address (skipped), not an error', () => {
    const tasks = [{ id: 'a.1', host: '10.0.0.1', ports: [31000], ipAddresses: [null] }];
    const m = model([app('/a', {}, 10001, { tasks, ipAddress: { discovery: { ports: [{ number: 8080 }] } } })]);
    expect(m.problems).toEqual([]);
  });
  test.each([
    ['app id with a line break', app('/bad\nbind *:81'), 'id', /letters, digits/],
    [
      'deployment group with a line break',
      app('/bad', { HAPROXY_DEPLOYMENT_GROUP: 'grp\n  bind *:81' }),
      'HAPROXY_DEPLOYMENT_GROUP',
      /app id/,
    ],
    [
      'task host with a space',
      app('/bad', {}, 10001, { tasks: [{ id: 't', host: '10.0.0.1 backup', ports: [31000] }] }),
      'tasks[0].host',
      /host name/,
    ],
    [
      'task port 0',
      app('/bad', {}, 10001, { tasks: [{ id: 't', host: '10.0.0.1', ports: [0] }] }),
      'tasks[0].ports[0]',
      /outside/,
    ],
    [
      'container IP that is no address',
      app('/bad', {}, 10001, {
        ipAddress: { discovery: { ports: [{ number: 8080 }] } },
        tasks: [{ id: 't', host: 'h', ports: [1], ipAddresses: [{ ipAddress: '10.0.0.1 x' }] }],
      }),
      'tasks[0].ipAddresses[0].ipAddress',
      /IPv4 or IPv6/,
    ],
    ['service port > 65535', app('/bad', {}, 70000), 'servicePort', /outside 1..65535/],
    ['service port 0', app('/bad', {}, 0), 'servicePort', /outside 1..65535/],
    [
      'health check interval 0',
      app('/bad', {}, 10001, { healthChecks: [{ protocol: 'HTTP', portIndex: 0, intervalSeconds: 0 }] }),
      'healthChecks[0].intervalSeconds',
      /1\.\./,
    ],
    [
      'health check path with a line break',
      app('/bad', {}, 10001, { healthChecks: [{ protocol: 'HTTP', portIndex: 0, path: '/h\n  bind *:82' }] }),
      'healthChecks[0].path',
      /must be a URI/,
    ],
    [
      'health check path of three words (HAProxy refuses option httpchk GET /a b c)',
      app('/bad', {}, 10001, { healthChecks: [{ protocol: 'HTTP', portIndex: 0, path: '/a b c' }] }),
      'healthChecks[0].path',
      /a URI and an HTTP version/,
    ],
    [
      'health check negative failures',
      app('/bad', {}, 10001, { healthChecks: [{ protocol: 'HTTP', portIndex: 0, maxConsecutiveFailures: -2 }] }),
      'healthChecks[0].maxConsecutiveFailures',
      /integer/,
    ],
    [
      'health check port as text',
      app('/bad', {}, 10001, { healthChecks: [{ protocol: 'TCP', port: '80' }] }),
      'healthChecks[0].port',
      /1\.\.65535/,
    ],
  ])('%s', (_n, a, label, message) => {
    expectLeftOut([a], label, message);
  });
});

describe('--refuse-app-templates', () => {
  const labels = {
    HAPROXY_0_BACKEND_HEAD: '\nbackend {backend}\n  balance {balance}\n  mode http\n  http-request return status 200\n',
  };
  test('off (marathon-lb semantics): the template label is used', () => {
    expect(model([app('/a', labels)]).problems).toEqual([]);
  });
  test('on: the app is left out, naming the label', () => {
    expectLeftOut([app('/bad', labels)], 'HAPROXY_0_BACKEND_HEAD', /refused \(--refuse-app-templates\)/, {
      refuseAppTemplates: true,
    });
  });
  test('the flag and its MLB_ variable reach --dry', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'apps.json');
      fs.writeFileSync(file, JSON.stringify({ apps: [app('/t', labels), app('/u', {}, 10002)] }));
      const flag = await dryRun(['--apps-file', file, '--group', 'external', '--refuse-app-templates']);
      const env = await dryRun(['--apps-file', file, '--group', 'external'], { MLB_REFUSE_APP_TEMPLATES: 'true' });
      for (const run of [flag, env]) {
        expect(run.code).toBe(0);
        expect(run.stderr).toMatch(/left out app \/t port index 0 label HAPROXY_0_BACKEND_HEAD/);
        expect(run.stdout).not.toContain('return status 200');
        expect(run.stdout).toContain('backend u_10002');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('conflicts between apps, decided in the rendered config (--dry)', () => {
  test("a service port used by two apps: the first in app id order keeps it, whatever Marathon's order", async () => {
    for (const order of [
      [app('/b', {}, 10005), app('/a', {}, 10005)],
      [app('/a', {}, 10005), app('/b', {}, 10005)],
    ]) {
      const run = await dryOf(order);
      expect(run.stdout).toContain('frontend a_10005');
      expect(run.stdout).not.toContain('b_10005');
      expect(run.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/left out app \/b: service port 10005 is already bound by app \/a/),
      ]);
    }
  });
  test('different bind addresses may share a port; a wildcard may not', async () => {
    const ok = await dryOf([
      app('/a', { HAPROXY_0_BIND_ADDR: '127.0.0.1' }, 10005),
      app('/b', { HAPROXY_0_BIND_ADDR: '127.0.0.2' }, 10005),
    ]);
    expect(ok.stderr).toBe('');
    const clash = await dryOf([app('/a', { HAPROXY_0_BIND_ADDR: '127.0.0.1' }, 10005), app('/b', {}, 10005)]);
    expect(clash.stderr).toMatch(/app \/b: service port 10005 is already bound by app \/a/); // An address family prefix names the same address.
    const prefixed = await dryOf([
      app('/a', { HAPROXY_0_BIND_ADDR: '127.0.0.1' }, 10005),
      app('/b', { HAPROXY_0_BIND_ADDR: 'ipv4@0.0.0.0' }, 10005),
    ]);
    expect(prefixed.stderr).toMatch(/app \/b: service port 10005 is already bound by app \/a/);
  });

  /** Apps /a and /b on service port 10005, bound to `first` and `second`. */
  const onOnePort = (first: string, second: string): ReturnType<typeof dryOf> =>
    dryOf([app('/a', { HAPROXY_0_BIND_ADDR: first }, 10005), app('/b', { HAPROXY_0_BIND_ADDR: second }, 10005)]);

  // Compared as text, two spellings of one address were both served and HAProxy split the port's
  // connections between the two apps (an audit).
  test.each([
    ['127.0.0.1', '"127.0.0.1"'],
    ['127.0.0.1', '127.1'],
    ['127.0.0.1', "'127.1'"],
    ['127.0.0.1', '0177.0.0.1'],
    ['127.0.0.1', '2130706433'],
    ['127.0.0.1', '::ffff:127.0.0.1'],
    ['127.0.0.1', 'localhost'],
    ['::1', '[::1]'],
    ['::1', 'ipv6@[::1]'],
    ['::1', '0:0::1'],
    ['::1', '::0001'],
    ['127.0.0.1', '0'],
    ['127.0.0.1', '0.0'],
    ['::1', '::0'],
    ['::1', '[0:0:0:0:0:0:0:0]'],
  ])('BIND_ADDR %s and %s on one port: the second app is left out', async (first, second) => {
    const run = await onOnePort(first, second);
    expect(run.stderr).toMatch(/app \/b: service port 10005 is already bound by app \/a/);
  });
  test.each([
    ['127.0.0.1', '127.0.0.2'],
    ['127.1', '127.2'],
    ['::1', '::2'],
    ['10.0.0.1', '::1'],
  ])('BIND_ADDR %s and %s share a port', async (first, second) => {
    expect((await onOnePort(first, second)).stderr).toBe('');
  });

  test("a HAPROXY_{n}_PORT label cannot take another app's Marathon service port, even sorted first", async () => {
    const run = await dryOf([app('/aaa', { HAPROXY_0_PORT: '10005' }, 10001), app('/victim', {}, 10005)]);
    expect(run.stderr).toBe(
      'marathon-lb: warning: left out app /aaa port index 0 label HAPROXY_0_PORT: service port 10005 is the Marathon service port of app /victim; a label cannot take it\n',
    );
    expect(run.stdout).toContain('backend victim_10005');
    // Two labels on one port: the first by app id, as before.
    const both = await dryOf([
      app('/a', { HAPROXY_0_PORT: '10007' }, 10001),
      app('/b', { HAPROXY_0_PORT: '10007' }, 10002),
    ]);
    expect(both.stderr).toMatch(/app \/b: service port 10007 is already bound by app \/a/);
  });

  test.each([
    'nice 10',
    'thread 1',
    'thread all',
    'process 1',
    'ca-ignore-err all',
    'crt-ignore-err 10,12',
    'severity-output number',
    'level admin',
    'uid 0 gid 0 user root group root mode 600',
    // marathon-lb's own example for HAPROXY_{n}_BIND_OPTIONS (Longhelp.md)
    'ciphers AES128+EECDH:AES128+EDH force-tlsv12 no-sslv3 no-tlsv10',
    'curves X25519:P-256 ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384',
  ])('bind options HAProxy accepts on a TCP listener: %s', async (options) => {
    const run = await dryOf([app('/a', { HAPROXY_0_BIND_OPTIONS: options }, 10005)]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`bind *:10005 ${options}`);
  });
  test('VHOST with blanks after its commas is served as marathon-lb serves it (checked against upstream)', async () => {
    const run = await dryOf([app('/a', { HAPROXY_0_VHOST: 'a.example.com, b.example.com ,c.example.com' })]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('hdr(host) -i  b.example.com ');
    expect(run.stdout).toContain('hdr(host) -i c.example.com\n');
  });

  test.each([
    [80, []],
    [443, []],
    [9090, []],
    [9091, []],
  ] as const)('port %d of the global frontends is not given to an app', async (port, extra) => {
    const run = await dryOf([app('/a', {}, port), app('/good', {}, 10999)], [...extra]);
    expect(run.stderr).toMatch(new RegExp(`app /a: service port ${port} is already bound by the HAPROXY_`));
    expect(run.stdout).toContain('backend good_10999');
  });
  test('with --dont-bind-http-https, ports 80 and 443 are free for apps', async () => {
    const run = await dryOf([app('/a', {}, 80)], ['--dont-bind-http-https']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('bind *:80');
  });
  test('app ids that map to the same backend name: the later one is left out', async () => {
    const run = await dryOf([app('/a/b', {}, 10005), app('/a_b', {}, 10005)]);
    expect(run.stderr).toMatch(/backend name a_b_10005 is already used/);
  });
  test('a vhost with MODE=tcp leaves that port out with a clear message', async () => {
    const run = await dryOf([
      app('/a', { HAPROXY_0_VHOST: 'a.example.com', HAPROXY_0_MODE: 'tcp' }),
      app('/good', {}, 10999),
    ]);
    expect(run.stderr).toMatch(
      /app \/a port index 0 label HAPROXY_0_VHOST: service port 10001 has a vhost but mode tcp/,
    );
    expect(run.stdout).not.toContain('a_10001');
  });
  // marathon-lb's config, which HAProxy takes: the vhost is only a map entry (found by a migration check).
  test('with --haproxy-map, a vhost with MODE=tcp is served as marathon-lb serves it: its own listener and a map entry', async () => {
    const dir = tempDir();
    try {
      const run = await dryOf(
        [app('/a', { HAPROXY_0_VHOST: 'a.example.com', HAPROXY_0_MODE: 'tcp' })],
        ['--haproxy-map', '--haproxy-config', path.join(dir, 'haproxy.cfg')],
      );
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/\nfrontend a_10001\n {2}bind \*:10001\n {2}mode tcp\n {2}use_backend a_10001\n/);
      expect(fs.readFileSync(path.join(dir, 'domain2backend.map'), 'utf8')).toBe('a.example.com a_10001\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  // marathon-lb prints use_backend lines for these even with maps, and HAProxy refuses a tcp backend there.
  test.each([
    ['a path', { HAPROXY_0_PATH: '/x' }],
    ['auth', { HAPROXY_0_AUTH: 'realm:bob:$6$abc$def' }],
    ['a redirect to https', { HAPROXY_0_REDIRECT_TO_HTTPS: 'true' }],
  ])('with --haproxy-map, a vhost with MODE=tcp and %s leaves that port out', async (_n, labels) => {
    const dir = tempDir();
    try {
      const run = await dryOf(
        [app('/a', { HAPROXY_0_VHOST: 'a.example.com', HAPROXY_0_MODE: 'tcp', ...labels }), app('/good', {}, 10999)],
        ['--haproxy-map', '--haproxy-config', path.join(dir, 'haproxy.cfg')],
      );
      expect(run.stderr).toMatch(
        /app \/a port index 0 label HAPROXY_0_VHOST: service port 10001 has a vhost but mode tcp/,
      );
      expect(run.stdout).not.toContain('a_10001');
      expect(run.stdout).toContain('backend good_10999');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
