import type { IncomingMessage, ServerResponse } from 'node:http';
import { eventStreamAttached } from './events';
import { pathOf, readJson, sendError, sendJson, sendText } from './http';
import { marathonInfo } from './info';
import { renderApp, renderTask, renderTasks } from './render';
import type { Simulator } from './simulator';
import { SimulatorError } from './simulator';
import { findApp, findTask } from './state';
import { trickleApps } from './trickle';

/** Marathon's REST API (the parts clients of marathon-lb use) over the simulated state. */
export async function marathonRoutes(
  sim: Simulator,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const path = pathOf(url);
  const method = req.method ?? 'GET';
  if (path === '/ping') return sendText(res, 200, 'pong\n');
  if (method === 'GET' && path === '/v2/info') return sendJson(res, 200, marathonInfo(sim));
  if (method === 'GET' && path === '/v2/leader') return sendJson(res, 200, { leader: `${sim.host}:${sim.port}` });
  if (method === 'GET' && path === '/v2/events') {
    const hang = sim.faults.stream === 'hang';
    const greeting = eventStreamAttached(req.socket.remoteAddress ?? '127.0.0.1', sim.nowIso());
    return sim.hub.attach(
      res,
      url.searchParams.getAll('event_type'),
      hang,
      greeting,
      sim.faults.stream === 'endless-line',
      sim.faults.stream === 'mute',
    );
  }
  if (method === 'GET' && path === '/v2/deployments') return sendJson(res, 200, sim.deploymentsJson());
  if (method === 'DELETE' && path.startsWith('/v2/deployments/')) {
    await sim.cancelDeployment(decodeURIComponent(path.slice('/v2/deployments/'.length)));
    return sendJson(res, 202, {});
  }
  if (method === 'GET' && path === '/v2/tasks') return sendJson(res, 200, renderTasks(sim.snapshot()));
  if (method === 'POST' && path === '/v2/tasks/delete') return killTasks(sim, req, res, url);

  if (path === '/v2/apps' || path.startsWith('/v2/apps/'))
    return apps(sim, req, res, url, path.slice('/v2/apps'.length), method);
  return sendError(res, 404, `no such resource: ${method} ${url.pathname}`);
}

async function apps(
  sim: Simulator,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  rest: string,
  method: string,
): Promise<void> {
  if (method === 'GET') {
    if (await appsFault(sim, res)) return;
    if (rest === '') {
      const embeds = sim.faults.apps?.kind === 'no-embed' ? [] : url.searchParams.getAll('embed');
      const embed = {
        tasks: embeds.some((e) => e === 'apps.tasks' || e === 'tasks'),
        readiness: embeds.some((e) => e === 'apps.readiness' || e === 'readiness'),
      };
      const extra = sim.faults.extraApps ?? [];
      const state = sim.snapshot();
      const slowMs = sim.appsLatencyPerAppMs * (state.apps.length + extra.length);
      if (slowMs > 0) {
        // Rendered piece by piece from the state of this moment, as the pieces go out.
        const items: readonly (() => unknown)[] = [
          ...state.apps.map((a) => () => renderApp(state, a, embed)),
          ...extra.map((x) => () => x),
        ];
        return trickleApps(
          res,
          items,
          (item) => item(),
          slowMs,
          (ms, fn) => sim.schedule(ms, fn),
        );
      }
      const answer = { apps: [...sim.appsJson(embed).apps, ...extra] };
      return sendJson(res, 200, answer);
    }
    const tasksOnly = rest.endsWith('/tasks');
    const app = findApp(sim.snapshot(), tasksOnly ? rest.slice(0, -'/tasks'.length) : rest);
    if (!app) return sendError(res, 404, `App '${rest}' does not exist`);
    if (tasksOnly)
      return sendJson(res, 200, { tasks: app.tasks.map((t) => renderTask(t, app.def.healthChecks.length)) });
    return sendJson(res, 200, { app: sim.appJson(app.def.id) });
  }
  const clientIp = req.socket.remoteAddress ?? '127.0.0.1';
  const force = url.searchParams.get('force') === 'true';
  const killMatch = /^(.*)\/tasks\/([^/]+)$/.exec(rest);
  if (method === 'DELETE' && killMatch) {
    const taskId = decodeURIComponent(killMatch[2]);
    const task = sim
      .snapshot()
      .apps.flatMap((a) => a.tasks)
      .find((t) => t.id === taskId);
    if (!task) throw new SimulatorError(404, `Task '${taskId}' does not exist`);
    await sim.killTasks([taskId], { scale: url.searchParams.get('scale') === 'true', force }, clientIp);
    return sendJson(res, 200, { task: task ? renderTask(task, 0) : { id: taskId } });
  }
  if (method === 'DELETE' && rest !== '') {
    await sim.deleteApp(rest, clientIp, force);
    return sendJson(res, 200, deploymentReply(sim));
  }
  const body = method === 'POST' || method === 'PUT' ? await readJson(req) : undefined;
  if (body && !body.ok) throw new SimulatorError(400, body.error);
  if (method === 'POST' && rest === '') {
    const app = await sim.createApp(body?.value, clientIp);
    return sendJson(res, 201, app, { Location: `/v2/apps${String(app['id'])}` });
  }
  if (method === 'PUT' && rest !== '') {
    // Marathon creates the app when it does not exist yet (the id comes from the path).
    if (!findApp(sim.snapshot(), rest)) {
      const value: unknown = body?.value;
      await sim.createApp({ ...(typeof value === 'object' && value !== null ? value : {}), id: rest }, clientIp);
      return sendJson(res, 201, deploymentReply(sim));
    }
    await sim.updateApp(rest, body?.value, clientIp, force);
    return sendJson(res, 200, deploymentReply(sim));
  }
  return sendError(res, 405, `${method} ${url.pathname} is not supported by the simulator`);
}

/** `POST /v2/tasks/delete[?scale=true][&force=true]` with `{"ids": [...]}`, as zdd kills drained tasks. */
async function killTasks(sim: Simulator, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const body = await readJson(req);
  if (!body.ok) throw new SimulatorError(400, body.error);
  const ids: unknown =
    typeof body.value === 'object' && body.value !== null ? (body.value as Record<string, unknown>)['ids'] : undefined;
  if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string')) {
    throw new SimulatorError(422, 'expected {"ids": ["<task id>", ...]}');
  }
  const scale = url.searchParams.get('scale') === 'true';
  const before = sim.snapshot();
  const killed = ids.flatMap((id) => {
    const found = findTask(before, id);
    return found ? [renderTask(found.task, found.app.def.healthChecks.length)] : [];
  });
  await sim.killTasks(
    ids,
    { scale, force: url.searchParams.get('force') === 'true' },
    req.socket.remoteAddress ?? '127.0.0.1',
  );
  return sendJson(res, 200, scale ? deploymentReply(sim) : { tasks: killed });
}

/** Marathon's answer to a change: the new version and the deployment that carries it out. */
const deploymentReply = (sim: Simulator): Record<string, unknown> => ({
  version: sim.nowIso(),
  deploymentId: sim.lastDeploymentId(),
});

/** Applies an `apps` fault; true when the response has been sent. */
async function appsFault(sim: Simulator, res: ServerResponse): Promise<boolean> {
  const f = sim.faults.apps;
  if (f === undefined) return false;
  switch (f.kind) {
    case '503':
      sendError(res, 503, 'simulated fault: Marathon could not serve /v2/apps');
      return true;
    case 'slow':
      await sim.sleep(f.delayMs);
      return false;
    case 'no-embed':
      return false;
    case 'invalid-json':
      sendText(res, 200, '{"apps": [{"id": "/truncated", "labels": {"HAPROXY_GROUP": "ext', {
        'Content-Type': 'application/json',
      });
      return true;
    case 'wrong-shape':
      sendJson(res, 200, { apps: { id: '/wrong-shape', note: 'apps is an object here, not an array' } });
      return true;
  }
}
