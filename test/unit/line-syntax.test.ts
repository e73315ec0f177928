import { appOnOwnVhost } from '../support/fixtures';
import { makeTestCerts, type TestCerts } from '../support/certs';
import { describeWithHaproxy, dryCheckedByHaproxy } from '../support/haproxy';

/** crypt(3) of "adminpw" (openssl passwd -6), as HAPROXY_{n}_AUTH takes it. */
const HASH = '$6$mlbsaltA$1xQ1ieNmxVic1kCRaNDX3Z6P8DQdtA1EcLw.SiGM4p2fnSm/z8tFW.y4HhLzqbQ8yUumwsZL.rCb7/soBUdI2.';
const words = (n: number): string => Array.from({ length: n }, (_, i) => `/p${i}`).join(' ');

/**
 * Text HAProxy's line parser refuses makes `haproxy -c` refuse the whole config, every app's routes
 * with it (an audit: a `\x` without two hex digits, a quote left open by a template label or by a
 * format spec's fill, words after a section's name). Such an app's port is left out alone, naming
 * its label; what HAProxy reads is still served, as marathon-lb serves it.
 */
describeWithHaproxy('text HAProxy cannot parse leaves out only its own app', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeTestCerts();
  });
  /** --dry of a good app and one with `labels`, then `haproxy -c` of what it printed. */
  const run = async (labels: Record<string, string>): Promise<{ stderr: string; config: string }> => {
    const r = await dryCheckedByHaproxy(
      [appOnOwnVhost('/good', 10001, {}), appOnOwnVhost('/other', 10002, labels)],
      certs.serverCert + certs.serverKey,
    );
    expect(r.config).toContain('\nbackend good_10001\n');
    return r;
  };

  const backendHead = (line: string): string => `\nbackend {backend}\n  balance {balance}\n  mode {mode}\n${line}\n`;
  test.each([
    ['a path with \\x and no hex digits', { HAPROXY_0_PATH: '/p\\xZZ' }, /HAPROXY_0_PATH.*two hex digits/],
    ['a path with \\x and one hex digit', { HAPROXY_0_PATH: '/p\\x4' }, /HAPROXY_0_PATH.*two hex digits/],
    ['a redirect with \\x at its end', { HAPROXY_0_HTTP_BACKEND_REDIR: '/r\\x' }, /HTTP_BACKEND_REDIR.*two hex/],
    ['an empty redirect target in quotes', { HAPROXY_0_HTTP_BACKEND_REDIR: "''" }, /HTTP_BACKEND_REDIR.*empty word/],
    [
      'an empty redirect target of two quotings',
      { HAPROXY_0_HTTP_BACKEND_REDIR: `''""` },
      /HTTP_BACKEND_REDIR.*empty word/,
    ],
    [
      'an AUTH realm with a bad \\x',
      { HAPROXY_0_AUTH: `my\\xZZ:alice:${HASH}` },
      /HAPROXY_0_AUTH: realm "my\\\\xZZ" must not contain \\x without two hex digits/,
    ],
    [
      'a template label leaving a double quote open',
      { HAPROXY_0_BACKEND_HEAD: backendHead('  http-request set-header X-A "abc') },
      /HAPROXY_0_BACKEND_HEAD.*line 5 has an unbalanced double quote/,
    ],
    [
      'a template label leaving a single quote open before a comment',
      { HAPROXY_0_BACKEND_HEAD: backendHead("  http-request set-header X-A 'abc # c") },
      /line 5 has an unbalanced single quote/,
    ],
    [
      'a template label with a bad \\x',
      { HAPROXY_0_BACKEND_HEAD: backendHead('  http-request set-header X-A \\xZZ') },
      /line 5 has "\\\\xZZ": \\x without two hex digits/,
    ],
    [
      "a format spec's fill writing a quote",
      { HAPROXY_0_BACKEND_HEAD: backendHead('  http-request set-header X-A {mode:"<5}x') },
      /HAPROXY_0_BACKEND_HEAD.*unbalanced double quote/,
    ],
    [
      "a word after the backend's name",
      { HAPROXY_0_BACKEND_HEAD: '\nbackend {backend} extra\n  balance {balance}\n  mode {mode}\n' },
      /line 2 has words after its section's name/,
    ],
    [
      'a backend said to be made from the good one',
      { HAPROXY_0_BACKEND_HEAD: '\nbackend {backend} from good_10001\n  balance {balance}\n  mode {mode}\n' },
      /line 2 has words after its section's name/,
    ],
    ['a path of 62 words', { HAPROXY_0_PATH: words(62) }, /HAPROXY_0_PATH.*more than 61 words/],
    // Lines that labels make together with Marathon's values or a translation (a second audit).
    [
      'a removed directive whose translation goes past 64 words',
      {
        HAPROXY_0_BACKEND_HTTP_OPTIONS: `  option forwardfor\n  reqideny ^X-A:\\ a if ${Array(58).fill('TRUE').join(' ')}\n`,
      },
      /line \d+ of its backend has \d+ words \(HAProxy reads at most 64 a line/,
    ],
    [
      "a redirect beside a VHOST list of 70 names with blanks (the redirect's ACL line)",
      {
        HAPROXY_0_VHOST: Array.from({ length: 70 }, (_, i) => `h${i}.example.com`).join(', '),
        HAPROXY_0_HTTP_BACKEND_REDIR: '/foo',
      },
      /line \d+ of its backend has \d+ words/,
    ],
  ])('%s: left out, the config valid', async (_name, labels, message) => {
    const { stderr, config } = await run(labels);
    expect(stderr).toMatch(message);
    expect(config).not.toContain('other_10002');
  });

  test.each([
    ['a \\x inside single quotes (HAProxy reads it as written)', { HAPROXY_0_PATH: "'/p\\xZZ'" }],
    ['a \\x with two hex digits', { HAPROXY_0_PATH: '/p\\x41' }],
    ['a path of 61 words (marathon-lb serves it)', { HAPROXY_0_PATH: words(61) }],
    [
      'quotes closed in a template label, a quote inside a comment',
      { HAPROXY_0_BACKEND_HEAD: backendHead('  http-request set-header X-A "a b" # don\'t') },
    ],
    ["an empty word after the backend's name", { HAPROXY_0_BACKEND_HEAD: "\nbackend {backend} ''\n  mode {mode}\n" }],
    ['BIND_OPTIONS of 59 words (marathon-lb prints them)', { HAPROXY_0_BIND_OPTIONS: Array(59).fill('tfo').join(' ') }],
    // Refused until a differential fuzz against marathon-lb: it prints them and HAProxy reads them.
    ['a VHOST list separated by blanks', { HAPROXY_0_VHOST: 'other.example.com  b.example.com,c.example.com' }],
    ['an empty BIND_ADDR (every address)', { HAPROXY_0_BIND_ADDR: '' }],
    ['addresses in short forms', { HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: '10.1 127.1 010.0.0.1 10.0.0.0/8' }],
    [
      'host names HAProxy resolves, alone and with a mask',
      { HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: 'localhost localhost/24 localhost/255.255.0.0 10.0.0.0/8' },
    ],
    ['a MODE with blanks around it', { HAPROXY_0_MODE: ' http ' }],
    // A second differential check: marathon-lb reads these labels only when not empty (`if app.path:`).
    [
      'empty PATH, SSL_CERT, BIND_OPTIONS, AUTH and proxy paths (not set)',
      {
        HAPROXY_0_PATH: '',
        HAPROXY_0_SSL_CERT: '',
        HAPROXY_0_BIND_OPTIONS: '',
        HAPROXY_0_AUTH: '',
        HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH: '',
        HAPROXY_0_HTTP_BACKEND_REVPROXY_PATH: '',
      },
    ],
    [
      'blanks HAProxy reads as word breaks: around BIND_ADDR, a line break ending BIND_OPTIONS, a blank ending AUTH',
      { HAPROXY_0_BIND_ADDR: ' 127.0.0.1 ', HAPROXY_0_BIND_OPTIONS: 'tfo\n', HAPROXY_0_AUTH: `r:alice:${HASH} ` },
    ],
    ['a BIND_ADDR in a short IPv4 form', { HAPROXY_0_BIND_ADDR: '127.1' }],
    ["a listener's name in quotes, with blanks", { HAPROXY_0_BIND_OPTIONS: 'name "my api" tfo' }],
    ['a vhost no client sends (its service port routes)', { HAPROXY_0_VHOST: 'bücher.example ::1 a.example.com:' }],
    // A third differential check: an ACL with no pattern never matches, and a user with no password never logs in.
    ['a PATH of flags only (its route never taken)', { HAPROXY_0_PATH: '-i' }],
    ['a PATH of blanks', { HAPROXY_0_PATH: '  ' }],
    ['an AUTH with an empty password (no one logs in)', { HAPROXY_0_AUTH: 'r:alice:' }],
    ['an AUTH password of empty quotes', { HAPROXY_0_AUTH: 'r:alice:""' }],
    ['an AUTH password HAProxy reads as a comment', { HAPROXY_0_AUTH: 'r:alice:# not a password' }],
    ['a BIND_ADDR in quotes (HAProxy reads the address)', { HAPROXY_0_BIND_ADDR: '"127.0.0.1"' }],
    ['a BIND_ADDR in single quotes', { HAPROXY_0_BIND_ADDR: "'127.0.0.1'" }],
    ['a BIND_ADDR of empty quotes (every address)', { HAPROXY_0_BIND_ADDR: '""' }],
    ['a BIND_ADDR in a short IPv4 form after ipv4@', { HAPROXY_0_BIND_ADDR: 'ipv4@127.1' }],
  ])('%s: served', async (_name, labels) => {
    const { stderr, config } = await run(labels);
    expect(stderr).not.toMatch(/left out/);
    expect(config).toContain('\nbackend other_10002');
  });
});
