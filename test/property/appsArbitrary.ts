/**
 * fast-check generators of `/v2/apps?embed=apps.tasks` bodies as a careless or hostile app owner
 * (or a broken Marathon) could produce them: realistic apps in the shapes marathon-lb serves
 * (host ports, Docker bridge, IP-per-task), with any label or field replaced now and then by
 * hostile text (line breaks, quotes, `$VAR`, `#`, backslashes, unicode, very long), a wrong type,
 * null, or an out-of-range number.
 */
import fc from 'fast-check';

/** Paths the generated labels may point at; the test fills them in (a loadable PEM). */
export const GOOD_PEM = '@GOOD_PEM@';

const PIECES = [
  '\n',
  '\r',
  '\r\n',
  '\0',
  '"',
  "'",
  '\\',
  '#',
  '$HOME',
  '${HOME}',
  '"$HOME"',
  '"${PATH}"',
  "'$HOME'",
  '\\$HOME',
  ' ',
  '\t',
  'é',
  '日本',
  '\u2028',
  // Blanks to C's isspace (HAProxy's word separators) but no line break, and spaces it does not know.
  '\v',
  '\f',
  '\u00a0',
  '\u0085',
  '\ufeff',
  '\ud800',
  '%[env(HOME)]',
  '%',
  '{',
  '}',
  ',',
  ':',
  '/',
  '-i',
  '-f',
  '-m',
  '\\n',
  '\\x0a',
  '\\',
  '\nbind *:81',
  '\n  http-request return status 200',
  '*',
  '[',
  ']',
  '(',
  ')',
  '!',
  '\u007f',
  'a',
  'x.example.com',
  '10.0.0.1',
];

const hostile: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 5 })), { maxLength: 6 })
      .map((a) => a.join('')),
  },
  { weight: 2, arbitrary: fc.fullUnicodeString({ maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(5000), 'a.'.repeat(2000), '/p'.repeat(3000), 'w '.repeat(100)) },
);

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.constant([null]),
  fc.constant('12'),
  fc.constant({ a: 1 }),
);

/** null most of the time. */
const rarely = <T>(a: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: a });

/** Mostly `valid`, sometimes hostile text, sometimes a wrong type or null. */
function field<T>(
  valid: fc.Arbitrary<T>,
  bad: fc.Arbitrary<unknown> = fc.oneof(hostile, wrongType),
): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 40, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: bad });
}

/** A label value: valid choices, or hostile text (labels are strings in Marathon; wrong types are rare). */
function label(...valid: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...valid.slice(0, 2)) },
    { weight: 6, arbitrary: fc.constantFrom(...valid) },
    { weight: 2, arbitrary: hostile },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...valid), hostile).map(([a, b]) => a + b) },
  );
}

const PORT_LABELS: Readonly<Record<string, fc.Arbitrary<string>>> = {
  VHOST: label(
    'a.example.com',
    'b.example.com,c.example.com',
    '*.example.com',
    'x.example.com:8080',
    'API.Example.com',
    'a b',
    'a,,b',
  ),
  PATH: label(
    '/a',
    '/',
    '-i /v1 /v2',
    '"/a b"',
    "'/x$y'",
    '/a#b',
    '-f /etc/passwd',
    '',
    '-- -x',
    '-m reg ^/api/v[0-9]+$',
    '-m reg ^/a(b',
    '-i -m reg ^/a\\d+',
    '-m sub api',
    '-m len 4',
    '-m found',
  ),
  AUTH: label(
    'realm:user:$6$salt$hash',
    'my realm:bob:pw',
    'r$HOME:u:p',
    'r${HOME}:u:p',
    'r"x:u:p',
    'r\\:u:p',
    'r:u',
    'r:u:p w',
  ),
  SSL_CERT: label(GOOD_PEM, '/nonexistent/cert.pem', '/etc/passwd', 'relative.pem', '/tmp'),
  BIND_ADDR: label('127.0.0.1', '::1', '[::1]', 'localhost', '*', '0.0.0.0', '300.1.1.1', 'bad host', '1.2.3', ':::'),
  BIND_OPTIONS: label(
    'accept-proxy',
    `ssl crt ${GOOD_PEM}`,
    'ssl',
    'backlog 10',
    'backlog x',
    'alpn h2,http/1.1',
    'maxconn 0',
    'verify required',
    'foo',
    'ciphers HIGH',
    'defer-accept tfo',
    'tcp-ut 5s',
    'ssl-min-ver TLSv1.2',
    'crt /nonexistent.pem',
    'name x y',
    `ssl crt '${GOOD_PEM}'`,
    `ssl crt "${GOOD_PEM}" alpn 'h2'`,
    'name "x y"',
    "name 'x",
    'name "$HOME"',
    "accept-proxy 'x'#y",
    'name a\\x41',
  ),
  BACKEND_NETWORK_ALLOWED_ACL: label(
    '10.0.0.0/8 192.168.0.0/16',
    '::1',
    'fe80::/10',
    '1.2.3.4/33',
    '1.2.3.4/255.0.0.0',
    'x',
    '10.0.0.0/8\t127.0.0.1',
  ),
  MODE: label('http', 'tcp', 'HTTP', 'udp'),
  BALANCE: label(
    'roundrobin',
    'leastconn',
    'source',
    'hdr(host)',
    'url_param id',
    'uri len 10',
    'random(2)',
    'fastest',
    'first x',
    'uri path-only',
    'url_param id check_post 64',
    'hash path',
  ),
  PORT: label('10050', '10051', '0', '70000', '-1', 'NaN', '1e3', '80', '9090'),
  BACKEND_WEIGHT: label('1', '-5', '10', 'heavy'),
  STICKY: label('true', 'false'),
  REDIRECT_TO_HTTPS: label('true', 'false'),
  USE_HSTS: label('true', 'false'),
  ENABLED: label('true', 'false'),
  HTTP_BACKEND_REDIR: label('/landing', 'https://x.example.com/a', '%[env(HOME)]', '"$HOME"', '/a%20b', '/a b', ''),
  HTTP_BACKEND_PROXYPASS_PATH: label('/api', '/a/b', '/a$b', '/a"b'),
  HTTP_BACKEND_REVPROXY_PATH: label('/root', '/a$1', '/'),
  BACKEND_HEALTHCHECK_PORT_INDEX: label('0', '1', '-1', 'x'),
  GROUP: label('external', 'internal'),
};

/** Raw HAProxy text by design (marathon-lb); generated only for runs with --refuse-app-templates. */
const TEMPLATE_LABELS = fc.constantFrom('BACKEND_HEAD', 'FRONTEND_HEAD', 'HTTP_FRONTEND_ACL', 'BACKEND_SERVER_OPTIONS');

function portLabels(index: number, withTemplates: boolean): fc.Arbitrary<Record<string, string>> {
  const keys = Object.keys(PORT_LABELS);
  const one = fc.constantFrom(...keys).chain((k) => PORT_LABELS[k]!.map((v) => [`HAPROXY_${index}_${k}`, v] as const));
  const templ = TEMPLATE_LABELS.chain((t) => hostile.map((v) => [`HAPROXY_${index}_${t}`, `\n${v}\n`] as const));
  return fc
    .tuple(
      fc.array(one, { maxLength: 3 }),
      withTemplates ? rarely(templ, 3).map((t) => (t === null ? [] : [t])) : fc.constant([]),
    )
    .map(([a, b]) => Object.fromEntries([...a, ...b]));
}

const appLabels = (withTemplates: boolean): fc.Arbitrary<unknown> =>
  fc
    .tuple(
      portLabels(0, withTemplates),
      portLabels(1, false),
      rarely(label('grp', 'blue-green', 'a/b'), 8),
      rarely(label('external', 'internal', 'external,internal'), 6),
    )
    .map(([p0, p1, deployment, group]) => ({
      HAPROXY_GROUP: group ?? 'external',
      ...p0,
      ...p1,
      ...(deployment === null
        ? {}
        : { HAPROXY_DEPLOYMENT_GROUP: deployment, HAPROXY_DEPLOYMENT_STARTED_AT: '2024-03-28T09:06:11.644Z' }),
    }));

const servicePort = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 10000, max: 10012 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 80, 443, 9090, 9091, 65536, -1, 70000, 1.5) },
);
const taskPort = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 31000, max: 31010 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 65536, -3, 2.5) },
);

const healthCheck = fc.record(
  {
    protocol: field(fc.constantFrom('HTTP', 'TCP', 'MESOS_HTTP', 'HTTPS', 'COMMAND')),
    path: field(fc.constantFrom('/health', '/', '/a?b=c')),
    portIndex: field(fc.constantFrom(0, 1), fc.constantFrom(-1, '0', null, 1.5)),
    intervalSeconds: field(fc.integer({ min: 1, max: 60 }), fc.constantFrom(0, -1, 1.5, 99999999999, '5')),
    timeoutSeconds: field(fc.integer({ min: 0, max: 30 }), fc.constantFrom(-1, 0.5, 1e12)),
    maxConsecutiveFailures: field(fc.integer({ min: 0, max: 10 }), fc.constantFrom(-1, -2, 2.5)),
    gracePeriodSeconds: field(fc.constant(300)),
  },
  { requiredKeys: [] },
);

const task = (i: number): fc.Arbitrary<unknown> =>
  fc.record(
    {
      id: field(fc.constant(`t${i}.x`), fc.constantFrom(null, 5)),
      host: field(
        fc.constantFrom('10.0.0.1', '10.0.0.2', '127.0.0.1', 'agent-1', '10.0.0.3', 'unresolvable-host'),
        fc.oneof(hostile, wrongType),
      ),
      state: field(fc.constantFrom('TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_STAGING', 'TASK_LOST')),
      ports: field(fc.array(taskPort, { minLength: 1, maxLength: 2 })),
      ipAddresses: field(
        fc.constantFrom(
          [{ ipAddress: '10.1.1.1' }],
          [{ ipAddress: '10.1.1.2' }],
          [{ ipAddress: '::1' }],
          [null],
          [],
          [{}],
        ),
        fc.oneof(
          hostile.map((h) => [{ ipAddress: h }]),
          wrongType,
        ),
      ),
      healthCheckResults: field(
        fc.constantFrom([{ alive: true }], [{ alive: true }], [{ alive: false }], [], [null], [{ alive: true }, null]),
        wrongType,
      ),
    },
    { requiredKeys: ['id'] },
  );

const appId = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('/web', '/a/b', '/team/app-1', '/a_b', '/x.y', '/svc') },
  {
    weight: 1,
    arbitrary: fc.oneof(
      hostile,
      hostile.map((h) => `/${h}`),
    ),
  },
  { weight: 1, arbitrary: wrongType },
);

/** One app in one of the networking shapes marathon-lb knows. */
const app = (withTemplates: boolean): fc.Arbitrary<unknown> =>
  fc
    .tuple(
      appId,
      appLabels(withTemplates),
      fc.constantFrom('host', 'ports', 'bridge', 'ipPerTask', 'networks'),
      fc.array(servicePort, { minLength: 1, maxLength: 2 }),
      fc.array(fc.nat(3), { minLength: 1, maxLength: 3 }),
      fc.array(healthCheck, { maxLength: 2 }),
      fc.integer({ min: 0, max: 3 }),
      rarely(
        fc.constantFrom(
          'portMappings',
          'tasks',
          'labels',
          'healthChecks',
          'portDefinitions',
          'container',
          'ipAddress',
          'ports',
        ),
        12,
      ),
      wrongType,
    )
    .chain(([id, labels, shape, ports, taskIds, healthChecks, instances, broken, junk]) =>
      fc.tuple(...taskIds.map((_, i) => task(i))).map((tasks) => {
        const a: Record<string, unknown> = {
          id,
          labels,
          instances,
          healthChecks,
          tasks,
          versionInfo: { lastScalingAt: '2024-03-28T09:06:11.644Z' },
        };
        const mappings = ports.map((p, i) => ({
          containerPort: 8080 + i,
          hostPort: 0,
          servicePort: p,
          protocol: 'tcp',
        }));
        if (shape === 'host') a['portDefinitions'] = ports.map((p) => ({ port: p, protocol: 'tcp' }));
        if (shape === 'ports') a['ports'] = ports;
        if (shape === 'bridge')
          a['container'] = { type: 'DOCKER', docker: { network: 'BRIDGE', portMappings: mappings } };
        if (shape === 'ipPerTask') {
          a['ipAddress'] = {
            discovery: { ports: ports.map((_, i) => ({ number: 8080 + i, name: `p${i}`, protocol: 'tcp' })) },
          };
        }
        if (shape === 'networks') {
          a['networks'] = [{ mode: 'container', name: 'dcos' }];
          a['container'] = { type: 'MESOS', portMappings: mappings };
        }
        if (broken === 'portMappings') a['container'] = { docker: { network: 'BRIDGE', portMappings: junk } };
        else if (broken !== null) a[broken] = junk;
        return a;
      }),
    );

/** `--dry` flags a payload is rendered with. */
export interface Flags {
  readonly haproxyMap: boolean;
  readonly groupHttpsByVhost: boolean;
  readonly dontBindHttpHttps: boolean;
  readonly healthCheck: boolean;
  readonly strictMode: boolean;
  readonly refuseAppTemplates: boolean;
}

const flags: fc.Arbitrary<Flags> = fc.record({
  haproxyMap: fc.boolean(),
  groupHttpsByVhost: fc.boolean(),
  dontBindHttpHttps: fc.boolean(),
  healthCheck: fc.constantFrom(false, false, true),
  strictMode: fc.constantFrom(false, false, false, true),
  refuseAppTemplates: fc.constantFrom(false, false, false, true),
});

export function flagArgs(f: Flags): string[] {
  return [
    ...(f.haproxyMap ? ['--haproxy-map'] : []),
    ...(f.groupHttpsByVhost ? ['--group-https-by-vhost'] : []),
    ...(f.dontBindHttpHttps ? ['--dont-bind-http-https'] : []),
    ...(f.healthCheck ? ['--health-check'] : []),
    ...(f.strictMode ? ['--strict-mode'] : []),
    ...(f.refuseAppTemplates ? ['--refuse-app-templates'] : []),
  ];
}

export interface Case {
  readonly flags: Flags;
  /** The body; usually `{ apps: [...] }`, rarely not even that. */
  readonly body: unknown;
}

/** A payload of 1..4 apps (2% of bodies are not an apps object at all). */
export const caseArbitrary: fc.Arbitrary<Case> = flags.chain((f) =>
  fc
    .oneof(
      {
        weight: 49,
        arbitrary: fc.array(app(f.refuseAppTemplates), { minLength: 1, maxLength: 4 }).map((apps) => ({ apps })),
      },
      { weight: 1, arbitrary: fc.oneof(wrongType, fc.record({ apps: wrongType })) },
    )
    .map((body) => ({ flags: f, body })),
);
