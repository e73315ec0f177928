import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeFaults } from './faults';
import { pathOf, readJson, sendError, sendJson } from './http';
import { ok } from '../result';
import type { Simulator } from './simulator';
import { SimulatorError } from './simulator';
import type { TaskState } from './types';

type Json = Record<string, unknown>;

/**
 * The control API under `/_sim/` (JSON in, JSON out). Errors answer `{"message": "..."}` with 400/404/409/422.
 *   GET  /_sim/state                       apps (with tasks), faults, leader, open streams
 *   POST /_sim/apps                        create app (Marathon app JSON)      PUT /_sim/apps/<id>  update
 *   DELETE /_sim/apps/<id>                 delete app
 *   POST /_sim/apps/<id>/scale             {"instances": N}
 *   POST /_sim/apps/<id>/labels            {"labels": {...}, "replace"?: bool}   (null value removes a label)
 *   POST /_sim/tasks/<taskId>/kill         {"scale"?: bool}                     DELETE /_sim/tasks/<taskId>
 *   POST /_sim/tasks/<taskId>/health       {"alive": bool}
 *   POST /_sim/tasks/<taskId>/endpoint     {"healthy": bool}   only the task's health path (503), Marathon unchanged
 *   POST /_sim/tasks/<taskId>/ready        {"ready": bool}     readiness-check verdict (app needs readinessChecks)
 *   POST /_sim/tasks/<taskId>/state        {"state": "TASK_UNREACHABLE", "scale"?: bool}
 *   POST /_sim/events                      {"eventType": ..., ...} or [ ... ]   publish as is
 *   POST /_sim/events/burst                {"count": N, "type"?: "status_update_event"}
 *   GET|POST|DELETE /_sim/faults           see faults.ts
 *   POST /_sim/auth/expire                 invalidate issued DC/OS tokens
 *   POST /_sim/leader                      {"redirectTo": "http://host:port" | null, "status"?: 307|302}
 */
export async function controlRoutes(
  sim: Simulator,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const path = pathOf(url).slice('/_sim'.length);
  const method = req.method ?? 'GET';
  const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? await readJson(req) : ok({});
  if (!body.ok) throw new SimulatorError(400, body.error);
  const b = (typeof body.value === 'object' && body.value !== null ? body.value : {}) as Json;

  if (method === 'GET' && path === '/state') {
    return sendJson(res, 200, {
      url: sim.url,
      ...sim.appsJson(true),
      faults: describeFaults(sim.faults),
      leader: sim.leader,
      streams: sim.streamCount,
      servingTasks: sim.serving,
    });
  }
  if (path === '/apps' && method === 'POST') return sendJson(res, 201, await sim.createApp(body.value));
  const appOp = /^\/apps(\/.+?)(?:\/(scale|labels))?$/.exec(path);
  if (appOp) {
    const [, id, op] = appOp;
    if (op === 'scale' && method === 'POST') return sendJson(res, 200, await sim.scale(id, b['instances'] as number));
    if (op === 'labels' && method === 'POST') {
      return sendJson(
        res,
        200,
        await sim.setLabels(id, (b['labels'] ?? null) as Record<string, string>, { replace: b['replace'] === true }),
      );
    }
    if (op === undefined && (method === 'PUT' || method === 'PATCH'))
      return sendJson(res, 200, await sim.updateApp(id, body.value));
    if (op === undefined && method === 'DELETE') {
      await sim.deleteApp(id);
      return sendJson(res, 200, { deleted: id });
    }
  }
  const taskOp = /^\/tasks\/([^/]+)(?:\/(kill|health|state|endpoint|ready))?$/.exec(path);
  if (taskOp) {
    const taskId = decodeURIComponent(taskOp[1]);
    const op = taskOp[2];
    if ((op === 'kill' && method === 'POST') || (op === undefined && method === 'DELETE')) {
      await sim.killTask(taskId, { scale: b['scale'] === true || url.searchParams.get('scale') === 'true' });
      return sendJson(res, 200, { killed: taskId });
    }
    if (op === 'health' && method === 'POST') {
      if (typeof b['alive'] !== 'boolean') throw new SimulatorError(400, 'expected {"alive": true|false}');
      await sim.setHealth(taskId, b['alive']);
      return sendJson(res, 200, { task: taskId, alive: b['alive'] });
    }
    if (op === 'endpoint' && method === 'POST') {
      if (typeof b['healthy'] !== 'boolean') throw new SimulatorError(400, 'expected {"healthy": true|false}');
      sim.setEndpointHealth(taskId, b['healthy']);
      return sendJson(res, 200, { task: taskId, endpointHealthy: b['healthy'] });
    }
    if (op === 'ready' && method === 'POST') {
      if (typeof b['ready'] !== 'boolean') throw new SimulatorError(400, 'expected {"ready": true|false}');
      await sim.setReady(taskId, b['ready']);
      return sendJson(res, 200, { task: taskId, ready: b['ready'] });
    }
    if (op === 'state' && method === 'POST') {
      await sim.setTaskState(taskId, b['state'] as TaskState, { scale: b['scale'] === true });
      return sendJson(res, 200, { task: taskId, state: b['state'] });
    }
  }
  if (path === '/events' && method === 'POST') {
    const events = Array.isArray(body.value) ? body.value : [body.value];
    if (!events.every((e) => typeof e === 'object' && e !== null && typeof (e as Json)['eventType'] === 'string')) {
      throw new SimulatorError(400, 'expected an event {"eventType": "...", ...} or an array of them');
    }
    sim.emit(events as { eventType: string }[]);
    return sendJson(res, 200, { emitted: events.length });
  }
  if (path === '/events/burst' && method === 'POST') {
    const count = sim.burst(b['count'] as number, (b['type'] as string | undefined) ?? 'status_update_event');
    return sendJson(res, 200, { emitted: count });
  }
  if (path === '/faults') {
    if (method === 'GET') return sendJson(res, 200, describeFaults(sim.faults));
    if (method === 'POST') return sendJson(res, 200, sim.setFaults(body.value));
    if (method === 'DELETE') {
      sim.clearFaults();
      return sendJson(res, 200, {});
    }
  }
  if (path === '/auth/expire' && method === 'POST') {
    sim.expireTokens();
    return sendJson(res, 200, { expired: true });
  }
  if (path === '/leader' && method === 'POST') {
    const redirectTo = b['redirectTo'];
    const status = b['status'] === 302 ? 302 : 307;
    sim.setLeader(typeof redirectTo === 'string' ? { redirectTo, status } : {});
    return sendJson(res, 200, sim.leader);
  }
  return sendError(res, 404, `no such control route: ${method} ${url.pathname}`);
}
