import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One simulated task's real listeners: a tiny HTTP server per host port, on an OS-assigned port.
 * Any path answers 200 with JSON naming the app and task and echoing the path and request headers it
 * received (so tests see what HAProxy rewrote); health-check paths answer 200 while the task is
 * healthy and 503 once the simulator marks it dead, so HAProxy's own checks agree with Marathon;
 * readiness-check paths answer 503 while the task is not ready.
 * `/_redirect?to=<url>` answers 302 with that Location (for tests of Location rewriting).
 */
export class TaskBackend {
  appId = '';
  taskId = '';
  healthy = true;
  healthPaths: ReadonlySet<string> = new Set(['/health']);
  ready = true;
  /** Not ready: every path but the health-check ones answers 503 (see SimulatorOptions.notReadyAnswers503). */
  notReadyFails = false;
  readyPaths: ReadonlySet<string> = new Set();

  private constructor(
    private readonly servers: readonly Server[],
    readonly ports: readonly number[],
  ) {}

  static async start(host: string, portCount: number): Promise<TaskBackend> {
    const servers: Server[] = [];
    const ports: number[] = [];
    let backend: TaskBackend | undefined;
    try {
      for (let i = 0; i < portCount; i++) {
        const index = i;
        const server = createServer((req, res) => backend?.answer(req, res, index));
        server.keepAliveTimeout = 2000;
        servers.push(server);
        ports.push(await listen(server, host));
      }
    } catch (err) {
      await Promise.all(servers.map(closeServer));
      throw err;
    }
    backend = new TaskBackend(servers, ports);
    return backend;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map(closeServer));
  }

  private answer(req: IncomingMessage, res: ServerResponse, index: number): void {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/_redirect') {
      const to = new URL(req.url ?? '/', 'http://task').searchParams.get('to') ?? '/';
      res.writeHead(302, { Location: to, 'X-Sim-Task': this.taskId, 'Content-Length': 0 });
      res.end();
      return;
    }
    const health = this.healthPaths.has(path);
    const readiness = this.readyPaths.has(path);
    const unready = !this.ready && (readiness || (this.notReadyFails && !health));
    const status = (health && !this.healthy) || unready ? 503 : 200;
    const body =
      JSON.stringify({
        app: this.appId,
        task: this.taskId,
        port: this.ports[index],
        portIndex: index,
        path,
        headers: req.headers,
        ...(health ? { healthy: this.healthy } : {}),
        ...(readiness ? { ready: this.ready } : {}),
      }) + '\n';
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'X-Sim-App': this.appId,
      'X-Sim-Task': this.taskId,
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
