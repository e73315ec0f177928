import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { parseArgs } from '../../src/cli/args';
import {
  describeTarget,
  detectHaproxyVersion,
  parseHaproxyVersion,
  removedLegacyDirectives,
  resolveHaproxyVersion,
  versionFromBanner,
} from '../../src/haproxy/version';
import { quoteWord, splitWords } from '../../src/render/configWords';
import { translateLegacyDirectives, translateLine } from '../../src/render/legacyDirectives';
import { renderOptions } from '../../src/wiring/parts';
import { checkConfig, describeWithHaproxy } from '../support/haproxy';
import { CLI } from '../support/paths';
import { dryRun, tempDir } from '../support/render';

/** The translation of a line that must translate (else the test fails with the reason). */
function modernOf(line: string): string {
  const t = translateLine(line);
  if (!t.ok) throw new Error(t.error);
  return t.value;
}

/** Marathon-lb's three built-in templates, rendered, and the common forms of users' overrides. */
const TABLE: readonly (readonly [string, string])[] = [
  [
    '  rspadd  Strict-Transport-Security:\\ max-age=15768000',
    '  http-response add-header Strict-Transport-Security max-age=15768000',
  ],
  ['  reqirep  "^([^ :]*)\\ /api/?(.*)" "\\1\\ /\\2"', "  http-request replace-pathq (?i)^/api/?(.*) '/\\1'"],
  [
    '  rspirep "^Location: (https?://app.example.com(:[0-9]+)?)?(/.*)" "Location:   /root" if hdr_location',
    '  http-response replace-header Location (?i)^(https?://app.example.com(:[0-9]+)?)?(/.*) /root if hdr_location',
  ],
  ['  reqadd X-Custom:\\ yes', '  http-request add-header X-Custom yes'],
  // An empty value: `''` is no argument to HAProxy 2.1+ ("expects exactly 2 arguments", found by a migration audit).
  ['  reqadd X-Empty:', '  http-request add-header X-Empty %[str()]'],
  ['  rspadd X-Empty:\\  if { ssl_fc }', '  http-response add-header X-Empty %[str()] if { ssl_fc }'],
  ['  reqadd X-Note:\\ 100%\\ sure if { ssl_fc }', "  http-request add-header X-Note '100%% sure' if { ssl_fc }"],
  [
    '  rspadd Cache-Control:\\ no-cache unless is_static',
    '  http-response add-header Cache-Control no-cache unless is_static',
  ],
  ['  reqdel ^X-Forwarded-For:', '  http-request del-header X-Forwarded-For'],
  ['  reqidel ^Proxy:.*', '  http-request del-header Proxy'],
  ['  rspidel ^Server:\\ .*  # hide it', '  http-response del-header Server # hide it'],
  ['  rspdel ^X-Powered-By: if !keep', '  http-response del-header X-Powered-By if !keep'],
  // No colon: every header whose name starts so (a migration audit found ^X-Real-IP refused).
  ['  reqidel ^X-Real-IP', '  http-request del-header X-Real-IP -m beg'],
  ['  rspidel ^X-Internal-.*:', '  http-response del-header X-Internal- -m beg'],
  ['  reqdel ^X-Debug.* if !keep', '  http-request del-header X-Debug -m beg if !keep'],
  ['  reqrep ^([^\\ :]*)\\ /old/(.*) \\1\\ /new/\\2', "  http-request replace-pathq ^/old/(.*) '/new/\\1'"],
  [
    "  reqrep '^GET /static/(.*)' 'GET /assets/\\1' if is_cdn",
    "  http-request replace-pathq ^/static/(.*) '/assets/\\1' if { method GET } is_cdn",
  ],
  [
    '  reqrep ^Host:\\ (.*)\\.internal Host:\\ \\1.example.com',
    "  http-request replace-header Host '^(.*)\\.internal' '\\1.example.com'",
  ],
  [
    '  rsprep ^Set-Cookie:\\ (.*) Set-Cookie:\\ \\1;\\ Secure',
    "  http-response replace-header Set-Cookie ^(.*) '\\1; Secure'",
  ],
  [
    '  rspirep ^Location:\\ http://(.*) Location:\\ https://\\1',
    "  http-response replace-header Location (?i)^http://(.*) 'https://\\1'",
  ],
  [
    '  reqdeny ^User-Agent:.*BadBot',
    '  http-request deny if { req.fhdr(User-Agent) -m reg ^.*BadBot } !{ var(txn.legacy_reqallow) -m bool }',
  ],
  [
    '  reqideny ^X-Debug:\\ on unless { src 10.0.0.0/8 } || trusted',
    '  http-request deny if { req.fhdr(X-Debug) -m reg -i ^on } !{ var(txn.legacy_reqallow) -m bool } !{ src 10.0.0.0/8 } !trusted',
  ],
  [
    '  reqallow ^Host:\\ www if from_lb || admin',
    '  http-request set-var(txn.legacy_reqallow) bool(true) if { req.fhdr(Host) -m reg ^www } from_lb || { req.fhdr(Host) -m reg ^www } admin',
  ],
  [
    '  reqitarpit ^GET\\ /wp-admin',
    '  http-request tarpit if { method GET } { pathq -m reg -i ^/wp-admin } !{ var(txn.legacy_reqallow) -m bool }',
  ],
  [
    '  reqdeny ^[^\\ ]*\\ /\\.git',
    "  http-request deny if { pathq -m reg '^/\\.git' } !{ var(txn.legacy_reqallow) -m bool }",
  ],
  ['  rspdeny ^X-Secret:', '  http-response deny if { res.fhdr(X-Secret) -m reg ^ }'],
  ['  block if { src 192.0.2.1 } METH_POST', '  http-request deny if { src 192.0.2.1 } METH_POST'],
  // Idioms of marathon-lb's issues (a migration audit): the group holds the path's slash; `[^: ]`.
  ['  reqrep ^([^\\ ]*\\ /)app[/]?(.*) \\1\\2', "  http-request replace-pathq ^/app[/]?(.*) '/\\1'"],
  ['  reqirep ^([^\\ ]*\\ /)old/(.*) \\1new/\\2', "  http-request replace-pathq (?i)^/old/(.*) '/new/\\1'"],
  [
    '  reqideny ^[^:\\ ]*\\ /admin',
    '  http-request deny if { pathq -m reg -i ^/admin } !{ var(txn.legacy_reqallow) -m bool }',
  ],
  // The other directives 2.1+ refuse that say what another does (HAProxy's own messages name them).
  ['  contimeout 5s', '  timeout connect 5s'],
  ['  srvtimeout 1m # long', '  timeout server 1m # long'],
  ['  redispatch', '  option redispatch'],
  ['  option forceclose', '  option httpclose'],
  ['  no option forceclose', '  no option httpclose'],
  ['  option independant-streams', '  option independent-streams'],
  ['  option http-tunnel', '  # option http-tunnel: ignored since HAProxy 2.0 (HTTP is always processed, HTX)'],
  ['  no option http-use-htx', '  # no option http-use-htx: ignored since HAProxy 2.0 (HTTP is always processed, HTX)'],
];

const UNTRANSLATABLE: readonly (readonly [string, RegExp])[] = [
  [
    '  reqpass ^X-Internal:',
    /"reqpass" was removed in HAProxy 2\.1 .*only exempted requests .*write the conditions of the rules/,
  ],
  ['  reqrep ^Host:\\ (.*) X-Host:\\ \\1', /"reqrep" .*does not keep header Host.*write http-request replace-header/],
  [
    '  reqdeny \\.exe',
    /"reqdeny" .*neither "\^Name: …" nor "\^<method> \/<path>".*write http-request deny if \{ req\.fhdr/,
  ],
  ['  reqdel ^X-A:\\ secret', /"reqdel" .*more than "\^Name:".*write http-request del-header <name> \[if \{ req\.fhdr/],
  ['  reqrep ^([^\\ ]*)\\ /a(.*) POST\\ /b\\2', /"reqrep" .*changes the method/],
  [
    '  reqrep ^([^\\ ]*)\\ /a/([^\\ ]*)\\ (HTTP.*) \\1\\ /b/\\2\\ \\3',
    /does not pass the rest of the request line through a final \(\.\*\)/,
  ],
  // A response's suggestions are http-response rules (a migration audit found rspdel told to write http-request).
  [
    '  rsprep ^HTTP/1\\.1\\ 302(.*) HTTP/1.1\\ 301\\1',
    /"rsprep" .*is not "\^Name: …"\); write http-response replace-header <name> <regex> <replacement> instead$/,
  ],
  ['  rspdel ^X-A:\\ secret', /"rspdel" .*write http-response del-header <name> \[if \{ res\.fhdr/],
  ['  reqadd "X-A: $HOSTNAME"', /reads environment variables/],
  ['  reqadd NoColonHere', /is not "Name: value"/],
  ['  block', /needs an "if" or "unless" condition/],
  ['  reqdeny ^X: if { src 1.2.3.4', /anonymous ACL "\{" is never closed/],
];

/** Two sections whose legacy lines 2.0 ran in another order than written. */
const SECTIONS = [
  'frontend f',
  '  reqsetbe ^Host:\\ admin admin_be',
  '  use_backend other if { path_beg /o }',
  '  reqadd X-A:\\ 1',
  '  reqrep ^([^\\ :]*)\\ /api/(.*) \\1\\ /\\2',
  '  http-request deny if { path_beg /api/admin }',
  '  rspadd X-R:\\ 1',
  '  rspidel ^Server:',
  '  http-response set-header X-S 1',
  '  acl bad req.hdr(X-Bad) -m found',
  '  block if bad',
  'backend b',
  '  reqdel ^X-B:',
  '  server s 127.0.0.1:1',
  '',
].join('\n');

describe('legacy directive translation (pure)', () => {
  test.each(TABLE)('%s', (legacy, modern) => {
    expect(modernOf(legacy)).toBe(modern);
  });

  test.each(UNTRANSLATABLE)('%s is reported with the modern replacement', (legacy, message) => {
    const t = translateLegacyDirectives(`backend b\n${legacy}\n`);
    expect(t).toMatchObject({ ok: false, error: { line: legacy.trim() } });
    expect(!t.ok && t.error.message).toMatch(message);
  });

  test('only lines starting with a removed keyword are touched; text without any comes back as is', () => {
    const text =
      'backend b\n  # reqadd in a comment\n  http-request set-header X-reqadd 1\n  redirect location /\n  balance roundrobin\n';
    expect(translateLegacyDirectives(text)).toEqual({ ok: true, value: text });
    const mixed = `${text}  reqadd X-A:\\ 1\n  server s 1.2.3.4:80\n`;
    expect(translateLegacyDirectives(mixed)).toEqual({
      ok: true,
      value: `${text}  http-request add-header X-A 1\n  server s 1.2.3.4:80\n`,
    });
    // Unknown req*/rsp* words are HAProxy's to judge (haproxy -c names them).
    expect(modernOf('  reqfoo ^Host:\\ x b2')).toBe('  reqfoo ^Host:\\ x b2');
    expect(modernOf('  clitimeout 50000')).toBe('  timeout client 50000'); // a frontend's: not in the table's backend
    expect(modernOf('  reqisetbe ^Host:\\ x b2 if ok')).toBe('  use_backend b2 if { req.fhdr(Host) -m reg -i ^x } ok');
  });

  test('no translated rule lands above an acl it names; a block that names none goes above every http-request rule', () => {
    const t = (lines: readonly string[]): string => {
      const r = translateLegacyDirectives(['backend b', ...lines, ''].join('\n'));
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    };
    // A migration audit: the reqadd first took the rewrite with it, above `acl is_api`.
    expect(
      t([
        '  reqadd X-Via:\\ lb',
        '  acl is_api path_beg /api',
        '  reqrep ^([^\\ :]*)\\ /api/(.*) \\1\\ /\\2 if is_api',
      ]),
    ).toBe(
      [
        'backend b',
        '  acl is_api path_beg /api',
        "  http-request replace-pathq ^/api/(.*) '/\\1' if is_api",
        '  http-request add-header X-Via lb',
        '',
      ].join('\n'),
    );
    expect(
      t([
        '  acl a always_true',
        '  http-request set-header X 1',
        '  block if a',
        '  acl b always_false',
        '  block if b',
      ]),
    ).toBe(
      [
        'backend b',
        '  acl a always_true',
        '  http-request deny if a',
        '  http-request set-header X 1',
        '  acl b always_false',
        '  http-request deny if b',
        '',
      ].join('\n'),
    );
    // An operator's stats section: the block (2.0 ran it first) goes above the use-service rules.
    expect(
      t([
        '  acl getpid path /_haproxy_getpids',
        '  http-request use-service lua.getpids if getpid',
        '  block unless { src 10.9.9.9 }',
      ]),
    ).toBe(
      [
        'backend b',
        '  acl getpid path /_haproxy_getpids',
        '  http-request deny unless { src 10.9.9.9 }',
        '  http-request use-service lua.getpids if getpid',
        '',
      ].join('\n'),
    );
  });

  test("each section's rules in 2.0's order: block first, http-request rules, filters (reqadd last); http-response, then rsp*", () => {
    const text = SECTIONS;
    expect(translateLegacyDirectives(text)).toEqual({
      ok: true,
      value: [
        'frontend f',
        '  use_backend admin_be if { req.fhdr(Host) -m reg ^admin }',
        '  use_backend other if { path_beg /o }',
        '  http-request deny if { path_beg /api/admin }',
        '  http-response set-header X-S 1',
        '  http-response del-header Server',
        '  http-response add-header X-R 1',
        '  acl bad req.hdr(X-Bad) -m found',
        // Never above the acl it names; still before any http-request rule after it, filters included.
        '  http-request deny if bad',
        "  http-request replace-pathq ^/api/(.*) '/\\1'",
        '  http-request add-header X-A 1',
        'backend b',
        '  http-request del-header X-B',
        '  server s 127.0.0.1:1',
        '',
      ].join('\n'),
    });
  });

  test('property: a quoted word reads back as the same value; translating twice changes nothing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (value) => {
        const line = splitWords(`x ${quoteWord(value)}`);
        expect(line.words.map((w) => w.value)).toEqual(['x', value]);
      }),
      { numRuns: 2000, seed: 10 },
    );
    const header = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/);
    const value = fc
      .stringMatching(/^[ -~]{0,20}$/)
      .map((v) => v.trim())
      .filter((v) => v !== '' && !v.includes('$'));
    fc.assert(
      fc.property(header, value, (name, v) => {
        const legacy = `  reqadd ${name}:\\ ${v.replace(/[\\ #"']/g, (c) => `\\${c}`)}`;
        const out = modernOf(legacy);
        const words = splitWords(out).words.map((w) => w.value);
        expect(words).toEqual(['http-request', 'add-header', name, v.replace(/%/g, '%%')]);
        expect(modernOf(out)).toBe(out);
      }),
      { numRuns: 1000, seed: 11 },
    );
  });

  test('property: 2.0 filters and their 2.6 rules rewrite the same requests the same way', () => {
    // The proxy-path template for random paths, and header rewrites of random values, judged by a
    // model of each HAProxy: 2.0 runs the regex over "GET <uri> HTTP/1.1" and "Name: value" lines
    // and replaces the whole line; 2.6 runs it over the path+query or the header's value.
    const segment = fc.stringMatching(/^[a-z0-9._~-]{1,6}$/);
    const proxyPath = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`);
    const uri = fc
      .tuple(
        fc.array(fc.oneof(segment, fc.constantFrom('api', 'API', 'v1')), { maxLength: 4 }),
        fc.option(fc.stringMatching(/^[a-z0-9=&]{0,8}$/)),
      )
      .map(([segs, q]) => `/${segs.join('/')}${q === null ? '' : `?${q}`}`);
    fc.assert(
      fc.property(proxyPath, uri, fc.boolean(), (p, u, prefixed) => {
        const requestUri = prefixed ? `${p}${u}` : u;
        const legacy = `  reqirep  "^([^ :]*)\\ ${p}/?(.*)" "\\1\\ /\\2"`;
        const modern = splitWords(modernOf(legacy)).words.map((w) => w.value);
        expect(modern.slice(0, 2)).toEqual(['http-request', 'replace-pathq']);
        expect(pathAfter26(requestUri, modern[2]!, modern[3]!)).toBe(
          uriAfter20(
            requestUri,
            splitWords(legacy).words.map((w) => w.value),
          ),
        );
      }),
      { numRuns: 2000, seed: 12 },
    );

    const headerValue = fc.stringMatching(/^[ -~]{0,24}$/).map((v) => v.trim());
    const rules: readonly string[] = [
      '  rspirep "^Location: (https?://app.example.com(:[0-9]+)?)?(/.*)" "Location:   /root"',
      '  rspirep ^Location:\\ http://(.*) Location:\\ https://\\1',
      '  rsprep ^Set-Cookie:\\ (.*) Set-Cookie:\\ \\1;\\ Secure',
      '  reqrep ^Host:\\ (.*)\\.internal Host:\\ \\1.example.com',
    ];
    const value = fc.oneof(
      headerValue,
      fc.constantFrom(
        'http://app.example.com/x',
        'HTTP://APP.EXAMPLE.COM:8080/y',
        'https://other/z',
        '/rel',
        'a.internal',
        'sid=1',
      ),
    );
    fc.assert(
      fc.property(fc.constantFrom(...rules), value, (legacy, v) => {
        const [, search, replacement] = splitWords(legacy).words.map((w) => w.value);
        const ci = /^\s*r(eq|sp)i/.test(legacy);
        const name = /^\^([^:]+):/.exec(search!)![1]!;
        const modern = splitWords(modernOf(legacy)).words.map((w) => w.value);
        expect(modern[1]).toBe('replace-header');
        expect(modern[2]).toBe(name);
        expect(valueAfter26(v, modern[3]!, modern[4]!)).toBe(valueAfter20(name, v, search!, replacement!, ci));
      }),
      { numRuns: 2000, seed: 13 },
    );
  });
});

/** JS stands in for PCRE here: the translated regexes use only what both read alike, plus a leading (?i). */
function regex(source: string, ci = false): RegExp {
  return source.startsWith('(?i)') ? new RegExp(source.slice(4), 'i') : new RegExp(source, ci ? 'i' : '');
}
const backrefs = (fmt: string, m: RegExpExecArray): string =>
  fmt.replace(/\\(\d)/g, (_, n: string) => m[Number(n)] ?? '');

function uriAfter20(uri: string, [keyword, search, replacement]: string[]): string {
  const line = `GET ${uri} HTTP/1.1`;
  const m = regex(search!, keyword === 'reqirep').exec(line);
  return m === null ? uri : backrefs(replacement!, m).split(' ')[1]!;
}
function pathAfter26(uri: string, search: string, fmt: string): string {
  const m = regex(search).exec(uri);
  return m === null ? uri : backrefs(fmt.replace(/%%/g, '%'), m);
}
function valueAfter20(name: string, value: string, search: string, replacement: string, ci: boolean): string {
  const m = regex(search, ci).exec(`${name}: ${value}`);
  return m === null
    ? value
    : backrefs(replacement, m)
        .replace(/^[^:]*:/, '')
        .trim();
}
function valueAfter26(value: string, search: string, fmt: string): string {
  const m = regex(search).exec(value);
  return m === null ? value : backrefs(fmt.replace(/%%/g, '%'), m);
}

describe('--haproxy-version', () => {
  test('parsed from the flag, from `haproxy -v`, else 2.6; 2.1 is where translation starts', () => {
    expect(parseHaproxyVersion('2.0')).toEqual({ major: 2, minor: 0 });
    expect(parseHaproxyVersion('2.6.12')).toEqual({ major: 2, minor: 6 });
    expect(parseHaproxyVersion('two')).toBeUndefined();
    expect(versionFromBanner('HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/')).toEqual({
      major: 2,
      minor: 6,
    });
    expect(versionFromBanner('HA-Proxy version 2.0.33-1 2023/05/31 - https://haproxy.org/')).toEqual({
      major: 2,
      minor: 0,
    });
    const never = (): undefined => undefined;
    expect(resolveHaproxyVersion('2.0', 'haproxy', () => ({ major: 2, minor: 8 }))).toEqual({ major: 2, minor: 0 });
    expect(resolveHaproxyVersion(undefined, 'haproxy', () => ({ major: 2, minor: 8 }))).toEqual({ major: 2, minor: 8 });
    expect(resolveHaproxyVersion(undefined, '/nowhere/haproxy', never)).toEqual({ major: 2, minor: 6 });
    expect(detectHaproxyVersion('/nonexistent/haproxy')).toBeUndefined();
    expect(
      [
        [1, 9],
        [2, 0],
        [2, 1],
        [2, 6],
        [3, 0],
      ].map(([major, minor]) => removedLegacyDirectives({ major: major!, minor: minor! })),
    ).toEqual([false, false, true, true, true]);
  });

  test('renderOptions: the flag wins over --haproxy-bin; without either answer, 2.6', () => {
    const parse = (argv: string[]) => {
      const r = parseArgs(['--group', 'g', ...argv], {});
      if (!r.ok) throw new Error('bad flags');
      return r.value;
    };
    const asked: string[] = [];
    const detect = (bin: string) => {
      asked.push(bin);
      return { major: 2, minor: 0 };
    };
    expect(renderOptions(parse(['--haproxy-version', '2.6']), {}, detect).translateLegacy).toBe(true);
    expect(asked).toEqual([]);
    expect(renderOptions(parse(['--haproxy-bin', '/opt/haproxy20/sbin/haproxy']), {}, detect).translateLegacy).toBe(
      false,
    );
    expect(asked).toEqual(['/opt/haproxy20/sbin/haproxy']);
    expect(renderOptions(parse(['--haproxy-bin', '/nonexistent/haproxy']), {}, () => undefined).translateLegacy).toBe(
      true,
    );
  });
});

const task = (id: string, port: number) => ({ id, host: '10.0.0.1', ports: [port], state: 'TASK_RUNNING' });
const APPS = {
  apps: [
    {
      id: '/hsts',
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'hsts.example.com', HAPROXY_0_USE_HSTS: 'true' },
      portDefinitions: [{ port: 10001 }],
      tasks: [task('h.1', 31001)],
    },
    {
      id: '/proxy',
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_0_VHOST: 'p.example.com',
        HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH: '/api',
      },
      portDefinitions: [{ port: 10002 }],
      tasks: [task('p.1', 31002)],
    },
    {
      id: '/rev',
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_0_VHOST: 'r.example.com',
        HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH: '/root',
      },
      portDefinitions: [{ port: 10003 }],
      tasks: [task('r.1', 31003)],
    },
    {
      id: '/odd',
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_0_MODE: 'http',
        HAPROXY_0_BACKEND_HTTP_OPTIONS: '  reqdeny \\.exe\n',
      },
      portDefinitions: [{ port: 10004 }],
      tasks: [task('o.1', 31004)],
    },
  ],
};

describe('--dry with legacy directives', () => {
  let dir: string;
  let appsFile: string;
  beforeEach(() => {
    dir = tempDir();
    appsFile = path.join(dir, 'apps.json');
    fs.writeFileSync(appsFile, JSON.stringify(APPS));
    fs.mkdirSync(path.join(dir, 'templates'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dry = (extra: string[], env: Record<string, string> = {}) =>
    dryRun(
      ['--apps-file', appsFile, '--group', 'external', '--templates-dir', path.join(dir, 'templates'), ...extra],
      env,
    );

  test("2.0 prints marathon-lb's text; 2.6 the translation, and leaves out the app it cannot translate", async () => {
    const old = await dry(['--haproxy-version', '2.0']);
    expect(old.code).toBe(0);
    expect(old.stderr).toBe('');
    expect(old.stdout).toContain('  rspadd  Strict-Transport-Security:\\ max-age=15768000\n');
    expect(old.stdout).toContain('  reqirep  "^([^ :]*)\\ /api/?(.*)" "\\1\\ /\\2"\n');
    expect(old.stdout).toContain('  reqdeny \\.exe\n');

    const now = await dry(['--haproxy-version', '2.6']);
    expect(now.code).toBe(0);
    expect(now.stdout).not.toMatch(/^\s*(req|rsp)\w+ /m);
    expect(now.stdout).toContain('  http-response add-header Strict-Transport-Security max-age=15768000\n');
    expect(now.stdout).toContain(
      "  http-request set-header Host p.example.com\n  http-request replace-pathq (?i)^/api/?(.*) '/\\1'\n",
    );
    expect(now.stdout).toContain(
      '  http-response replace-header Location (?i)^(https?://r.example.com(:[0-9]+)?)?(/.*) /root if hdr_location\n',
    );
    expect(now.stdout).not.toContain('backend odd_10004');
    expect(now.stderr).toMatch(
      /^marathon-lb: warning: left out app \/odd .*HAPROXY_0_BACKEND_HTTP_OPTIONS.*"reqdeny" was removed in HAProxy 2\.1.*http-request deny if \{ req\.fhdr/m,
    );
  });

  // A migration audit: `option http-tunnel` as a template's last line reached HAProxy 2.6 as written
  // (the quick test of a template's text read `$` as the end of the whole text), and every backend was refused.
  test.each([
    ['a template override file', 'HAPROXY_BACKEND_HEAD'],
    ['an app label', 'HAPROXY_0_BACKEND_HEAD'],
  ])('a removed option on the last line of %s is translated', async (_, name) => {
    const text = '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  option forceclose\n';
    const labels: Record<string, string> = { HAPROXY_GROUP: 'external' };
    if (name.startsWith('HAPROXY_0')) labels[name] = text;
    else fs.writeFileSync(path.join(dir, 'templates', name), text);
    const app = { id: '/web', labels, portDefinitions: [{ port: 10001 }], tasks: [task('w.1', 31001)] };
    fs.writeFileSync(appsFile, JSON.stringify({ apps: [app] }));
    const now = await dry(['--haproxy-version', '2.6']);
    expect(now.stderr).toBe('');
    expect(now.stdout).toContain('backend web_10001\n  balance roundrobin\n  mode tcp\n  option httpclose\n');
    expect(now.stdout).not.toContain('forceclose');
  });

  describe('the --dry process asks --haproxy-bin its version only when the config depends on it', () => {
    /** A fake HAProxy that prints `banner` for -v and notes each time it runs. */
    const fakeHaproxy = (name: string, banner: string): { bin: string; runs: () => number } => {
      const bin = path.join(dir, name);
      const log = path.join(dir, `${name}.runs`);
      fs.writeFileSync(bin, `#!/bin/sh\necho "$@" >> '${log}'\necho '${banner}'\n`, { mode: 0o755 });
      return { bin, runs: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').length - 1 : 0) };
    };
    const V20 = 'HA-Proxy version 2.0.33-1 2023/07/28 - https://haproxy.org/';
    const V26 = 'HAProxy version 2.6.12-1+deb12u4 2025/01/15 - https://haproxy.org/';
    const run = (bin: string, file = appsFile) =>
      spawnSync(process.execPath, [CLI, '--dry', '--apps-file', file, '--group', 'external', '--haproxy-bin', bin], {
        encoding: 'utf8',
        timeout: 20000,
      });

    test('a directive 2.1 removed is printed: asked once; a 2.0 binary gets the text, a 2.6 one the translation', () => {
      const old = fakeHaproxy('haproxy20', V20);
      const oldRun = run(old.bin);
      expect(oldRun.status).toBe(0);
      expect(oldRun.stdout).toContain('  rspadd  Strict-Transport-Security:\\ max-age=15768000\n');
      // The app whose label 2.6 cannot take is served for 2.0 (rendered again for it).
      expect(oldRun.stdout).toContain('backend odd_10004');
      expect(oldRun.stderr).toBe('');
      expect(old.runs()).toBe(1);

      const now = fakeHaproxy('haproxy26', V26);
      const nowRun = run(now.bin);
      expect(nowRun.status).toBe(0);
      expect(nowRun.stdout).toContain('  http-response add-header Strict-Transport-Security max-age=15768000\n');
      expect(nowRun.stdout).not.toContain('backend odd_10004');
      expect(nowRun.stderr).toMatch(/warning: left out app \/odd .*"reqdeny" was removed in HAProxy 2\.1/);
      expect(now.runs()).toBe(1);

      // A binary that is not there: the default, 2.6.
      const none = run(path.join(dir, 'no-haproxy'));
      expect(none.status).toBe(0);
      expect(none.stdout).toBe(nowRun.stdout);
    });

    test('nothing 2.1 removed is printed: the same config for every version, and HAProxy is not run', () => {
      const plainFile = path.join(dir, 'plain.json');
      const plainApps = [
        {
          id: '/web',
          labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com', HAPROXY_0_PATH: '/app' },
          portDefinitions: [{ port: 10011 }],
          tasks: [task('w.1', 31011)],
        },
        {
          id: '/tcp',
          labels: { HAPROXY_GROUP: 'external', HAPROXY_0_MODE: 'tcp' },
          portDefinitions: [{ port: 10012 }],
          tasks: [task('t.1', 31012)],
        },
      ];
      fs.writeFileSync(plainFile, JSON.stringify({ apps: plainApps }));
      const old = fakeHaproxy('haproxy20', V20);
      const r = run(old.bin, plainFile);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('backend web_');
      expect(old.runs()).toBe(0);
      for (const version of ['2.0', '2.6']) {
        const pinned = spawnSync(
          process.execPath,
          [CLI, '--dry', '--apps-file', plainFile, '--group', 'external', '--haproxy-version', version],
          { encoding: 'utf8', timeout: 20000 },
        );
        expect(pinned.stdout).toBe(r.stdout);
      }
    });

    test('a big input asks once when it prints a directive 2.1 removed, and never when it does not', () => {
      // Over a MiB of apps (read app by app, with the optimizing compiler); the HSTS apps need the answer.
      const hsts = APPS.apps.find((app) => app.id === '/hsts')!;
      const many = Array.from({ length: 300 }, (_, i) => ({
        ...hsts,
        id: `/hsts${i}`,
        labels: { ...hsts.labels, HAPROXY_0_VHOST: `h${i}.example.com`, HAPROXY_0_PORT: String(20000 + i) },
      }));
      const bigFile = path.join(dir, 'big.json');
      fs.writeFileSync(bigFile, JSON.stringify({ apps: many, padding: 'x'.repeat(1 << 20) }));
      const old = fakeHaproxy('haproxy20', V20);
      const r = run(old.bin, bigFile);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('  rspadd  Strict-Transport-Security');
      expect(old.runs()).toBe(1);

      const plain = many.map((app) => ({ ...app, labels: { ...app.labels, HAPROXY_0_USE_HSTS: 'false' } }));
      fs.writeFileSync(bigFile, JSON.stringify({ apps: plain, padding: 'x'.repeat(1 << 20) }));
      const unasked = fakeHaproxy('haproxy20b', V20);
      const p = run(unasked.bin, bigFile);
      expect(p.status).toBe(0);
      expect(p.stdout).toContain('backend hsts299_20299');
      expect(p.stdout).not.toContain('Strict-Transport-Security');
      expect(unasked.runs()).toBe(0);
    });
  });

  test('overrides from the environment and templates/ files are translated; a global one that cannot be stops the config', async () => {
    const env = {
      HAPROXY_BACKEND_HSTS_OPTIONS: '  rspadd Strict-Transport-Security:\\ max-age=31536000;\\ includeSubDomains\n',
    };
    fs.writeFileSync(
      path.join(dir, 'templates', 'HAPROXY_HTTP_FRONTEND_HEAD'),
      '\nfrontend marathon_http_in\n  bind *:80\n  mode http\n  reqidel ^X-(Internal|Debug):\n  reqadd X-Via:\\ lb\n',
    );
    const refused = await dry(['--haproxy-version', '2.6'], env);
    expect(refused.code).toBe(2); // reqidel ^X-(Internal|Debug): is two names, not one name or prefix
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /template HAPROXY_HTTP_FRONTEND_HEAD: "reqidel" was removed in HAProxy 2\.1.*write http-request del-header/,
    );

    fs.writeFileSync(
      path.join(dir, 'templates', 'HAPROXY_HTTP_FRONTEND_HEAD'),
      '\nfrontend marathon_http_in\n  bind *:80\n  mode http\n  reqidel ^X-Internal:\n  reqadd X-Via:\\ lb\n',
    );
    const fine = await dry(['--haproxy-version', '2.6'], env);
    expect(fine.code).toBe(0);
    expect(fine.stdout).toContain(
      '  mode http\n  http-request del-header X-Internal\n  http-request add-header X-Via lb\n',
    );
    expect(fine.stdout).toContain(
      "  http-response add-header Strict-Transport-Security 'max-age=31536000; includeSubDomains'\n",
    );

    // A global per-app template (HSTS from the environment) that cannot be translated stops the config too.
    const hsts = await dry(['--haproxy-version', '2.6'], {
      HAPROXY_BACKEND_HSTS_OPTIONS: '  rspdeny ^HTTP/1\\.1\\ 500\n',
    });
    expect(hsts.code).toBe(2);
    expect(hsts.stderr).toMatch(/template HAPROXY_BACKEND_HSTS_OPTIONS: "rspdeny" was removed in HAProxy 2\.1/);
  });
});

/** Legacy lines from a small grammar of the forms users write (header and request-line regexes, conditions). */
const legacyLine: fc.Arbitrary<string> = (() => {
  const name = fc.stringMatching(/^[A-Z][a-z]{0,5}(-[A-Z][a-z]{0,5})?$/);
  const piece = fc.constantFrom('.*', '(.*)', 'foo', '[0-9]+', '(a|b)\\.x', '(.*)\\.internal', '');
  const sep = fc.constantFrom('\\ ', '', '\\ *', '[\\ ]*');
  const cond = fc.constantFrom(
    '',
    ' if is_a',
    ' unless is_a || !is_b',
    ' if { src 10.0.0.0/8 } is_b',
    ' unless { var(txn.x) -m found }',
  );
  const header = fc.tuple(name, sep, piece).map(([n, s, p]) => ({ n, search: `^${n}:${s}${p}` }));
  const i = fc.constantFrom('', 'i');
  const method = fc.constantFrom('([^\\ :]*)', '[^\\ ]*', 'GET', '(GET|POST)', '(\\S+)');
  const segment = fc.stringMatching(/^[a-z0-9]{1,6}$/);
  const reqLine = fc.tuple(method, segment).map(([m, seg]) => ({ m, search: `^${m}\\ /${seg}/?(.*)` }));
  return fc.oneof(
    fc
      .tuple(fc.constantFrom('reqadd', 'rspadd'), name, fc.stringMatching(/^[a-z0-9=;,.%/-]{1,12}$/), cond)
      .map(([k, n, v, c]) => `  ${k} ${n}:\\ ${v}${c}`),
    fc
      .tuple(fc.constantFrom('reqdel', 'rspdel'), i, header, cond)
      .map(([k, ci, h, c]) => `  ${k.slice(0, 3)}${ci}${k.slice(3)} ${h.search}${c}`),
    fc
      .tuple(fc.constantFrom('reqrep', 'rsprep'), i, header, fc.constantFrom('\\1', 'x-\\1', 'fixed'), cond)
      .map(([k, ci, h, r, c]) => `  ${k.slice(0, 3)}${ci}${k.slice(3)} ${h.search} ${h.n}:\\ ${r}${c}`),
    fc
      .tuple(
        fc.constantFrom('allow', 'deny', 'tarpit'),
        i,
        fc.oneof(
          header.map((h) => h.search),
          reqLine.map((r) => r.search),
        ),
        cond,
      )
      .map(([k, ci, search, c]) => `  req${ci}${k} ${search}${c}`),
    fc.tuple(i, reqLine, segment, cond).map(([ci, r, to, c]) => {
      const groups = r.m.startsWith('(') ? 1 : 0;
      const keep = groups === 1 ? '\\1' : r.m.startsWith('G') ? 'GET' : 'x';
      return `  req${ci}rep ${r.search} ${keep}\\ /${to}/\\${groups + 1}${c}`;
    }),
    fc.tuple(fc.constantFrom('rspdeny', 'rspideny'), header, cond).map(([k, h, c]) => `  ${k} ${h.search}${c}`),
    cond.filter((c) => c !== '').map((c) => `  block${c}`),
  );
})();

describeWithHaproxy('translated rules are accepted by HAProxy 2.6', () => {
  test("two sections put in 2.0's order pass `haproxy -c`", async () => {
    const dir = tempDir();
    try {
      const cfg = path.join(dir, 'haproxy.cfg');
      const t = translateLegacyDirectives(SECTIONS);
      if (!t.ok) throw new Error(t.error.message);
      const defaults = 'defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n';
      const others = 'backend admin_be\n  server a 127.0.0.1:1\nbackend other\n  server o 127.0.0.1:1\n';
      fs.writeFileSync(
        cfg,
        `${defaults}${t.value.replace('frontend f\n', 'frontend f\n  bind 127.0.0.1:18082\n')}${others}`,
      );
      const check = await checkConfig(cfg);
      // (HAProxy warns of the input's own order: its use_backend lines stand above http-request rules.)
      expect([check.ok, check.output]).toEqual([true, expect.not.stringMatching(/\[ALERT\]/)]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test('every line of the table passes `haproxy -c`', async () => {
    const dir = tempDir();
    try {
      const cfg = path.join(dir, 'haproxy.cfg');
      fs.writeFileSync(
        cfg,
        [
          'defaults',
          '  mode http',
          '  timeout client 5s',
          '  timeout server 5s',
          '  timeout connect 5s',
          'frontend f',
          '  bind 127.0.0.1:18081',
          '  default_backend b',
          'backend b',
          '  acl hdr_location res.hdr(Location) -m found',
          '  acl is_static res.hdr(content-type) -m beg text/css',
          '  acl keep always_false',
          '  acl is_cdn always_false',
          '  acl trusted always_false',
          '  acl from_lb always_true',
          '  acl admin always_false',
          ...TABLE.map(([, modern]) => modern),
          '  server s 127.0.0.1:1',
          '',
        ].join('\n'),
      );
      const check = await checkConfig(cfg);
      expect(check.output).not.toMatch(/\[(ALERT|WARNING)\]/);
      expect([check.ok, check.output]).toEqual([true, expect.stringContaining('valid')]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test('property: 400 generated legacy lines translate (or are reported) and the translations pass one `haproxy -c`', async () => {
    const lines = fc.sample(legacyLine, { numRuns: 400, seed: 14 });
    const translated: string[] = [];
    let reported = 0;
    for (const line of lines) {
      const t = translateLine(line);
      if (t.ok) {
        expect(t.value).toMatch(/^ {2}http-(request|response) /);
        translated.push(t.value);
      } else {
        expect(t.error).toMatch(/was removed in HAProxy 2\.1 .*write /);
        reported++;
      }
    }
    expect(translated.length).toBeGreaterThan(300);
    const dir = tempDir();
    try {
      const cfg = path.join(dir, 'haproxy.cfg');
      fs.writeFileSync(
        cfg,
        [
          'defaults',
          '  mode http',
          '  timeout client 5s',
          '  timeout server 5s',
          '  timeout connect 5s',
          'frontend f',
          '  bind 127.0.0.1:18081',
          '  default_backend b',
          'backend b',
          '  acl is_a always_true',
          '  acl is_b always_false',
          ...translated,
          '  server s 127.0.0.1:1',
          '',
        ].join('\n'),
      );
      const check = await checkConfig(cfg);
      expect(check.output.split('\n').filter((l) => /\[(ALERT|WARNING)\]/.test(l))).toEqual([]);
      expect(check.ok).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log(`legacy lines: ${translated.length} translated, ${reported} reported`);
  });
});

describe('the start-up log line', () => {
  test('says which HAProxy the config is for, where that came from, and whether directives are translated', () => {
    expect(describeTarget('2.0', 'haproxy', () => ({ major: 2, minor: 6 }))).toBe(
      "writing the config for HAProxy 2.0 (--haproxy-version): marathon-lb's text is written as is",
    );
    expect(describeTarget(undefined, '/usr/sbin/haproxy', () => ({ major: 2, minor: 6 }))).toBe(
      'writing the config for HAProxy 2.6 (/usr/sbin/haproxy -v): directives it removed in 2.1 (reqadd, rspadd, reqrep, …) are translated',
    );
    expect(describeTarget(undefined, 'nope', () => undefined)).toMatch(
      /^writing the config for HAProxy 2\.6 \(the default; --haproxy-bin did not say\)/,
    );
  });
});
