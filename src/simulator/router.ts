import type { IncomingMessage, ServerResponse } from 'node:http';
import { controlRoutes } from './controlRoutes';
import { readJson, sendError, sendJson, sendText } from './http';
import { marathonRoutes } from './marathonRoutes';
import type { Simulator } from './simulator';
import { SimulatorError } from './simulator';

/**
 * Order of concerns for one request: `/_sim/` control API (never faulted, never authenticated) →
 * `{"all":"down"}` fault → DC/OS login → authentication → leader redirect → Marathon routes.
 */
export function createHandler(sim: Simulator): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(sim, req, res).catch((err: unknown) => {
      const status = err instanceof SimulatorError ? err.status : 500;
      sendError(res, status, err instanceof Error ? err.message : String(err));
    });
  };
}

async function handle(sim: Simulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  if (url.pathname.startsWith('/_sim/') || url.pathname === '/_sim') return controlRoutes(sim, req, res, url);

  const down = sim.faults.all;
  if (down === 'refuse') {
    req.socket.destroy();
    return;
  }
  if (down === '503') return sendError(res, 503, 'simulated outage: Marathon is unavailable');

  if (url.pathname === '/acs/api/v1/auth/login') {
    if (req.method !== 'POST') return sendError(res, 405, 'use POST');
    const body = await readJson(req);
    if (!body.ok) return sendError(res, 400, body.error);
    const reply = sim.auth.login(body.value);
    return sendJson(res, reply.status, reply.body, reply.headers);
  }

  const denied = sim.auth.check(req);
  if (denied) return sendJson(res, denied.status, denied.body, denied.headers);

  const leader = sim.leader;
  if (leader.redirectTo !== undefined && (url.pathname.startsWith('/v2/') || url.pathname === '/v2')) {
    const target = leader.redirectTo.replace(/\/+$/, '') + url.pathname + url.search;
    return sendText(res, leader.status ?? 307, '', { Location: target });
  }
  return marathonRoutes(sim, req, res, url);
}
