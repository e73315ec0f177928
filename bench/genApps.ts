/**
 * A seeded generator of realistic `/v2/apps?embed=apps.tasks` bodies with the compat corpus'
 * feature mix (vhosts, paths, health checks, host/bridge/IP-per-task networking, sticky, redirects,
 * balance, strict-mode enables, blue/green pairs). Deterministic for a seed.
 */
export interface GenOptions {
  readonly apps: number;
  readonly tasksPerApp: number;
  readonly seed: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

export function generateApps(o: GenOptions): { apps: unknown[] } {
  const r = rng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const apps: unknown[] = [];
  for (let i = 0; i < o.apps; i++) {
    const name = `app-${String(i).padStart(5, '0')}`;
    const id = `/${pick(['', 'team-a/', 'team-b/prod/'])}${name}`;
    const servicePort = 10000 + i;
    const labels: Record<string, string> = { HAPROXY_GROUP: pick(['external', 'external', 'external', 'internal']) };
    if (r() < 0.63)
      labels['HAPROXY_0_VHOST'] = r() < 0.1 ? `${name}.example.com,www.${name}.example.com` : `${name}.example.com`;
    if (r() < 0.57) labels['HAPROXY_0_ENABLED'] = r() < 0.9 ? 'true' : 'false';
    if (r() < 0.29) labels['HAPROXY_0_MODE'] = labels['HAPROXY_0_VHOST'] ? 'http' : pick(['http', 'tcp']);
    if (labels['HAPROXY_0_VHOST'] && r() < 0.2) labels['HAPROXY_0_PATH'] = pick(['/api', '/v1', '-i /static /assets']);
    if (r() < 0.04) labels['HAPROXY_0_STICKY'] = 'true';
    if (r() < 0.04) labels['HAPROXY_0_BALANCE'] = pick(['leastconn', 'source']);
    if (labels['HAPROXY_0_VHOST'] && r() < 0.05) labels['HAPROXY_0_REDIRECT_TO_HTTPS'] = 'true';
    if (r() < 0.02)
      labels['HAPROXY_0_BACKEND_HEAD'] =
        '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  timeout server 60s\n';
    const network = pick(['host', 'host', 'bridge', 'container']);
    const hc = r() < 0.5;
    const app: Record<string, unknown> = {
      id,
      labels,
      instances: o.tasksPerApp,
      versionInfo: { lastScalingAt: '2024-01-01T00:00:00.000Z', lastConfigChangeAt: '2024-01-01T00:00:00.000Z' },
      healthChecks: hc
        ? [
            {
              protocol: pick(['HTTP', 'TCP', 'MESOS_HTTP']),
              path: '/health',
              portIndex: 0,
              gracePeriodSeconds: 300,
              intervalSeconds: 60,
              timeoutSeconds: 20,
              maxConsecutiveFailures: 3,
            },
          ]
        : [],
    };
    if (network === 'host') app['portDefinitions'] = [{ port: servicePort, protocol: 'tcp' }];
    else if (network === 'bridge') {
      app['networks'] = [{ mode: 'container/bridge' }];
      app['container'] = { type: 'DOCKER', portMappings: [{ containerPort: 8080, hostPort: 0, servicePort }] };
    } else {
      app['networks'] = [{ mode: 'container', name: 'dcos' }];
      app['container'] = { type: 'MESOS', portMappings: [{ containerPort: 8080, servicePort }] };
    }
    const tasks: unknown[] = [];
    for (let t = 0; t < o.tasksPerApp; t++) {
      const agent = `10.0.${Math.floor(r() * 200)}.${1 + Math.floor(r() * 250)}`;
      tasks.push({
        id: `${name}.${t}-${Math.floor(r() * 1e9).toString(16)}`,
        appId: id,
        host: agent,
        state: 'TASK_RUNNING',
        ports: network === 'container' ? [] : [31000 + Math.floor(r() * 1000)],
        ipAddresses: [
          { ipAddress: network === 'container' ? `9.${(i >> 8) & 255}.${i & 255}.${t + 1}` : agent, protocol: 'IPv4' },
        ],
        startedAt: '2024-01-01T00:00:00.000Z',
        ...(hc ? { healthCheckResults: [{ alive: r() < 0.95 }] } : {}),
      });
    }
    app['tasks'] = tasks;
    apps.push(app);
  }
  return { apps };
}
