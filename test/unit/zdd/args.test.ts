import { parseZddArgs, ZDD_FLAGS } from '../../../src/zdd/args';

const REQUIRED = ['-m', 'http://marathon:8080', '-l', 'http://marathon-lb:9090', '-j', 'app.json'];
const parse = (argv: string[], env: Record<string, string> = {}) => parseZddArgs(argv, env);
const args = (argv: string[], env: Record<string, string> = {}) => {
  const r = parse(argv, env);
  if (!r.ok) throw new Error(JSON.stringify(r));
  return r.value;
};
/** Why the flags give no arguments (help, longhelp or an error). */
const stop = (argv: string[]) => {
  const r = parse(argv);
  if (r.ok) throw new Error(`expected no arguments from ${argv.join(' ')}`);
  return r.error;
};

describe("marathon-lb zdd flags are zdd.py's", () => {
  test('every flag of zdd.py, with its short form', () => {
    const names = ZDD_FLAGS.map((f) => (f.alias ? `${f.flag}/-${f.alias}` : f.flag));
    expect(names).toEqual([
      'longhelp',
      'marathon/-m',
      'marathon-lb/-l',
      'json/-j',
      'dry-run/-d',
      'force/-f',
      'step-delay/-s',
      'initial-instances/-i',
      'linear-increase',
      'resume/-r',
      'max-wait/-w',
      'new-instances/-n',
      'complete-cur/-c',
      'complete-prev/-p',
      'pre-kill-hook',
      'syslog-socket',
      'log-format',
      'log-level',
      'marathon-auth-credential-file',
      'auth-credentials',
      'dcos-auth-credentials',
      'marathon-ca-cert',
    ]);
  });

  test("zdd.py's defaults", () => {
    expect(args(REQUIRED)).toEqual({
      marathon: ['http://marathon:8080'],
      marathonLb: 'http://marathon-lb:9090',
      json: 'app.json',
      dryRun: false,
      force: false,
      resume: false,
      completeCur: false,
      completePrev: false,
      stepDelay: 5,
      initialInstances: 1,
      linearIncrease: 0,
      maxWait: 300,
      newInstances: 0,
      preKillHook: undefined,
      syslogSocket: '/dev/log',
      logFormat: '%(asctime)-15s %(name)s: %(message)s',
      logLevel: 'DEBUG',
      marathonAuthCredentialFile: undefined,
      authCredentials: undefined,
      dcosAuthCredentials: undefined,
      marathonCaCert: undefined,
    });
  });

  test('short forms and values', () => {
    const a = args([
      ...REQUIRED,
      '-d',
      '-f',
      '-s',
      '2',
      '-i',
      '3',
      '-r',
      '-w',
      '60',
      '-n',
      '2',
      '-c',
      '-p',
      '--linear-increase',
      '4',
      '--pre-kill-hook',
      '/bin/hook',
      '--log-level',
      'info',
      '--syslog-socket',
      '/dev/null',
      '--auth-credentials',
      'u:p',
      '--marathon-ca-cert',
      '/ca.pem',
      '--marathon-auth-credential-file',
      '/creds',
    ]);
    expect(a).toMatchObject({
      dryRun: true,
      force: true,
      stepDelay: 2,
      initialInstances: 3,
      resume: true,
      maxWait: 60,
      newInstances: 2,
      completeCur: true,
      completePrev: true,
      linearIncrease: 4,
      preKillHook: '/bin/hook',
      logLevel: 'INFO',
      syslogSocket: '/dev/null',
      authCredentials: 'u:p',
      marathonCaCert: '/ca.pem',
      marathonAuthCredentialFile: '/creds',
    });
  });

  test('short flags as argparse reads them: values attached, several flags in one token', () => {
    const a = args(['-mhttp://marathon:8080', '-lhttp://marathon-lb:9090', '-japp.json', '-dfs2', '-w60']);
    expect(a).toMatchObject({
      marathon: ['http://marathon:8080'],
      marathonLb: 'http://marathon-lb:9090',
      json: 'app.json',
      dryRun: true,
      force: true,
      stepDelay: 2,
      maxWait: 60,
    });
  });

  test('long names, argparse prefixes, and several Marathon URLs for failover', () => {
    const a = args([
      '--marathon',
      'http://a:8080,http://b:8080',
      '--marathon',
      'http://c:8080',
      '--marathon-lb',
      'http://lb:9090',
      '--json',
      'x.json',
      '--dry',
      '--step',
      '1',
      '--max',
      '9',
    ]);
    expect(a.marathon).toEqual(['http://a:8080', 'http://b:8080', 'http://c:8080']);
    expect(a).toMatchObject({ dryRun: true, stepDelay: 1, maxWait: 9 });
  });

  test('--dcos-auth-credentials defaults to $DCOS_SERVICE_ACCOUNT_CREDENTIAL', () => {
    expect(args(REQUIRED, { DCOS_SERVICE_ACCOUNT_CREDENTIAL: '{"uid":"x"}' }).dcosAuthCredentials).toBe('{"uid":"x"}');
    expect(
      args([...REQUIRED, '--dcos-auth-credentials', '{}'], { DCOS_SERVICE_ACCOUNT_CREDENTIAL: '{"uid":"x"}' })
        .dcosAuthCredentials,
    ).toBe('{}');
  });

  test('errors in argparse words', () => {
    expect(stop(['-l', 'http://lb', '-j', 'a.json'])).toEqual({
      kind: 'error',
      message: 'argument --marathon/-m is required',
    });
    expect(stop(['-m', 'http://m', '-j', 'a.json'])).toEqual({
      kind: 'error',
      message: 'argument --marathon-lb/-l is required',
    });
    expect(stop(['-m', 'http://m', '-l', 'http://lb'])).toEqual({
      kind: 'error',
      message: 'argument --json/-j is required',
    });
    // Found before anything is written to Marathon (zdd.py created the new colour first: an audit).
    for (const lb of ['not a url', 'ftp://127.0.0.1:9090', 'http://'])
      expect(stop(['-m', 'http://m', '-j', 'a.json', '-l', lb])).toEqual({
        kind: 'error',
        message: `argument --marathon-lb/-l: not an http:// or https:// URL: ${lb}`,
      });
    expect(stop([...REQUIRED, '-s', 'soon'])).toEqual({
      kind: 'error',
      message: "argument --step-delay/-s: invalid int value: 'soon'",
    });
    // A sleep longer than a timer holds would end after 1 ms; zdd.py's sleep refuses a negative one.
    for (const delay of ['2147484', '-1'])
      expect(stop([...REQUIRED, '-s', delay])).toEqual({
        kind: 'error',
        message: `argument --step-delay/-s: must be between 0 and 2147483 seconds (about 24.8 days, the longest a timer waits), got ${delay}`,
      });
    // Instance counts: a negative one was taken (and scaled to).
    for (const [flag, label] of [
      ['-i', '--initial-instances/-i'],
      ['-n', '--new-instances/-n'],
      ['--linear-increase', '--linear-increase'],
    ])
      expect(stop([...REQUIRED, flag!, '-5'])).toEqual({
        kind: 'error',
        message: `argument ${label}: must not be negative, got -5`,
      });
    expect(stop([...REQUIRED, '--linear-increase', '1.5'])).toEqual({
      kind: 'error',
      message: "argument --linear-increase: invalid int value: '1.5'",
    });
    expect(stop([...REQUIRED, '--log-level', 'loud'])).toEqual({ kind: 'error', message: 'Invalid log level: LOUD' });
    expect(stop([...REQUIRED, '--log-format', '%(message)'])).toEqual({
      kind: 'error',
      message:
        "argument --log-format: '%' at offset 0 starts no conversion such as %(message)s (write %% for a percent sign)",
    });
    // As argparse names them: as written, dashes and value too (an audit: "bogus").
    expect(stop([...REQUIRED, '--bogus'])).toEqual({ kind: 'error', message: 'unrecognized arguments: --bogus' });
    expect(stop([...REQUIRED, '--bogus=1', '-x'])).toEqual({
      kind: 'error',
      message: 'unrecognized arguments: --bogus=1 -x',
    });
    expect(stop([...REQUIRED, '--complete'])).toEqual({
      kind: 'error',
      message: 'ambiguous option: --complete could match --complete-cur, --complete-prev',
    });
  });

  test('--help lists the flags; --longhelp needs no other flag', () => {
    const help = stop(['--help']);
    expect(help.kind).toBe('help');
    for (const f of ZDD_FLAGS) expect(help.kind === 'help' && help.text).toContain(`--${f.flag}`);
    expect(stop(['--longhelp'])).toEqual({ kind: 'longhelp' });
  });
});
