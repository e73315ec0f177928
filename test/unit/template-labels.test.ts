import { appTemplateText } from '../../src/model/templateLabels';

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
    ['a quoted # is not a comment', '  http-request set-header X "#$Y"\n', '  http-request set-header X "#\\$Y"\n'],
    [
      "marathon-lb's own BACKEND_HEAD",
      '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n',
      '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n',
    ],
  ])('%s', (_, text, printed) => {
    expect(appTemplateText('BACKEND_HEAD', text)).toBe(printed);
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
  ])('refused: %s', (_, name, text, why) => {
    const r = appTemplateText(name, text);
    expect(typeof r === 'string' ? r : r.error).toMatch(why);
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
