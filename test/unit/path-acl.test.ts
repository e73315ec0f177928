import { readPortLabels } from '../../src/model/labels';
import { pathProblem } from '../../src/model/pathAcl';
import { regexProblem } from '../../src/model/pcreSubset';
import { splitWords } from '../../src/model/haproxyText';

const pathLabel = (v: string): ReturnType<typeof readPortLabels> => readPortLabels('/a', new Map([['PATH', v]]), 0);

describe('HAPROXY_{n}_PATH: the syntax of path_beg, as HAProxy accepts it', () => {
  // Each of these passes `haproxy -c` 2.6 after `acl p path_beg` (checked by hand and, for the regexes, by test/property/path-regex.test.ts).
  test.each([
    '/api',
    '-i /v1 /v2',
    '-m reg ^/api/v[0-9]+/(users|items)$',
    '-i -m reg ^/API',
    '-m reg -i ^/API',
    '-m reg ^/a\\d+\\.json$',
    '-m reg (?:a|b)*?c{2,5}+',
    '-m sub api',
    '-m end .js',
    '-m str /exact',
    '-m dir api',
    '-m dom example',
    '-m len 1:5',
    '-m len ge 5',
    '-m found',
    '-m reg ^/a -- /b',
    '-m reg (?i)^/api',
    '-m reg (?i:/API)/v[0-9]',
    '-m reg ^/(?<version>v[0-9]+)/(?P<rest>.*)$',
    '-m reg (?<!/admin)/x',
    '-m reg \\A/a\\z',
    '-m reg [[:alpha:]]+',
    '-m reg [:a-z]',
    '-m reg []a]',
    // No pattern: an ACL that never matches, as marathon-lb prints it (its service port is still served).
    '-i',
    '-m reg',
    '--',
    ' ',
  ])('serves %j', (v) => {
    const s = pathLabel(v);
    expect(s).not.toHaveProperty('label');
    expect(s).toHaveProperty('path', v);
  });

  test.each([
    ['-f /etc/passwd', /unsupported ACL flag -f/],
    ['-M /a', /unsupported ACL flag -M/],
    ['-u 5 /a', /unsupported ACL flag -u/],
    ['-m', /-m without a method/],
    ['-m foo /x', /unknown method "foo"/],
    ['-m len abc', /"abc" where -m len needs a number/],
    ['-m len ge', /-m len needs a number/],
    ['-m reg ^/a(b', /unclosed \(/],
    ['-m reg [z-a]', /range out of order/],
    ['-m reg a{2,1}', /out of order in a \{\} quantifier/],
    ['-m reg a{65536}', /count above 65535/],
    ['-m reg (?<=a+)b', /quantifier inside a lookbehind/],
    ['-m reg (?<n>a)(?<n>b)', /names two groups "n"/],
    ['-m reg [[:foo:]]', /unknown POSIX class/],
    ['-m reg [:alpha:]', /POSIX class outside a class/],
    ['-m reg (?x)a', /group syntax/],
    ['-m reg \\\\1(a)', /escape \\1/],
    ['-m reg ^/a\\\\q', /escape \\q/],
    ['-m reg *a', /nothing for \* to repeat/],
    ['-m reg (abcdefghij){3000}', /too large/],
  ])('leaves out %j, naming the label', (v, why) => {
    const p = pathLabel(v);
    expect(p).toMatchObject({ appId: '/a', label: 'HAPROXY_0_PATH' });
    expect((p as { message: string }).message).toMatch(why);
  });

  test('words are cut and unescaped as HAProxy does, before the regex is judged', () => {
    // Checked against haproxy -c's own echo of the regex: \\ and \x41 are turned into \ and A, \q stays.
    expect(splitWords('-m reg [z-a]\\\\q\\q\\x41\\$\\#\\"\\\'\\.\\d\\t')).toEqual([
      '-m',
      'reg',
      '[z-a]\\q\\qA\\$#"\'\\.\\d\t',
    ]);
    expect(splitWords('"a\\$b" \'c\\$d\'')).toEqual(['a$b', 'c\\$d']);
    expect(pathProblem(splitWords('-m reg ^/a\\\\d'))).toBeNull();
  });

  test('regex subset', () => {
    for (const ok of [
      '',
      'a',
      '^$',
      'a|',
      '(a)(b)',
      '[-a]',
      '[a-]',
      '[\\]]',
      'a{,3}',
      'x{2000}y{2000}',
      '(a{1000}){1000}',
      '\\/\\.\\-',
      // Checked against haproxy -c (2.6, PCRE2 10.42).
      '\\Qa.b\\E+',
      '\\Q(',
      '\\p{L}+\\P{Lu}\\pN\\p{Greek}\\p{L&}',
      '(?<n>a)\\k<n>\\k{n}(?P=n)',
      'a\\K',
      '\\x41\\x\\e\\cA\\o{101}\\N+\\X*',
      '(*UTF)^/x',
      '(*UCP)^/\\w+',
      '(*UTF)(*LIMIT_DEPTH=10)(*NOTEMPTY_ATSTART)(*BSR_UNICODE)(*NUL)^/x',
      '^/a(?#comment)b',
      'a(?#x)*',
    ])
      expect([ok, regexProblem(ok)]).toEqual([ok, null]);
    for (const bad of [
      '(',
      ')',
      '[',
      '[]',
      'a**',
      '\\b*',
      '^*',
      '(?=a)*',
      '[\\d-z]',
      '[é]',
      '\\',
      // Refused by haproxy -c: numbered references (no capture without a name), an unknown
      // property, \K in a lookaround, a code point above 0xff, a name not defined before.
      '(a)\\1',
      '\\p{Foo}',
      '(?=a\\K)',
      '\\x{263a}',
      '\\k<zz>',
      '\\K+',
      '(?<=\\X)',
      '\\N{2}',
      '^/(*UTF)x',
      '(*FOO)^/x',
      '(?#unclosed',
    ])
      expect([bad, regexProblem(bad)]).not.toEqual([bad, null]);
  });
});
