import * as net from 'node:net';

/** A port HAProxy will bind, and the address it binds it on. */
export interface Listener {
  readonly host: string;
  readonly port: number;
}

/**
 * The listeners among `wanted` whose address and port another program already holds: each is tried
 * with a listen of our own, closed at once. HAProxy cannot bind those, and would be retried forever.
 */
export async function busyListeners(wanted: readonly Listener[]): Promise<Listener[]> {
  const busy = await Promise.all(wanted.map((l) => isBusy(l)));
  return wanted.filter((_, i) => busy[i]);
}

function isBusy({ host, port }: Listener): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** Service ports a scenario's apps declare (portDefinitions, portMappings, HAPROXY_{n}_PORT labels). */
export function scenarioServicePorts(apps: readonly Record<string, unknown>[]): number[] {
  const ports = new Set<number>();
  const add = (p: unknown): void => {
    const n = typeof p === 'string' ? Number(p) : p;
    if (typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536) ports.add(n);
  };
  for (const app of apps) {
    for (const d of list(app['portDefinitions'])) add(d['port']);
    const container = app['container'];
    const docker = isRecord(container) ? container['docker'] : undefined;
    for (const m of [
      ...list(isRecord(container) ? container['portMappings'] : undefined),
      ...list(isRecord(docker) ? docker['portMappings'] : undefined),
    ])
      add(m['servicePort']);
    const labels = app['labels'];
    if (isRecord(labels))
      for (const [name, value] of Object.entries(labels)) if (/^HAPROXY_\d+_PORT$/.test(name)) add(value);
  }
  return [...ports];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);
