/**
 * The fast path's build asks a task event's host to be resolved only where the model dials it: not
 * for an IP-per-task app (dialled at its container IP), nor for an event that ends its task.
 */
import { parseArgs } from '../../src/cli/args';
import { findConfigDir } from '../../src/configDir';
import type { StatusUpdateEvent } from '../../src/marathon/eventTypes';
import { ServerMemo } from '../../src/model/serverIds';
import { HealthMemory } from '../../src/reconcile/healthMemory';
import { loadTemplateSet } from '../../src/render/loadTemplates';
import { RenderCache } from '../../src/render/render';
import { fastBuilder, snapshotBuilder } from '../../src/snapshotBuilder';
import { drain } from '../../src/steps';
import { modelOptions, renderOptions } from '../../src/wiring/parts';

const parsed = parseArgs(['--group', 'external', '--haproxy-version', '2.6'], {});
if (!parsed.ok) throw new Error('flags');
const templates = loadTemplateSet(findConfigDir(), {}, parsed.value.templatesDir);
if (!templates.ok) throw new Error(templates.error);
const deps = {
  templates: templates.value,
  modelOpts: modelOptions(parsed.value, {}),
  renderOpts: renderOptions(parsed.value, {}),
  health: new HealthMemory(100),
  servers: new ServerMemo(),
  renderCache: new RenderCache(),
};

/** Agents named, never resolved here (.invalid): only IP-per-task apps are routed without them. */
const ipPerTask = {
  id: '/ct',
  labels: { HAPROXY_GROUP: 'external' },
  networks: [{ mode: 'container', name: 'dcos' }],
  container: { type: 'DOCKER', portMappings: [{ containerPort: 8080, servicePort: 10100 }] },
  tasks: [
    { id: 'ct.1', host: 'agent-1.invalid', state: 'TASK_RUNNING', ipAddresses: [{ ipAddress: '10.1.0.1' }] },
    { id: 'ct.2', host: 'agent-2.invalid', state: 'TASK_RUNNING', ipAddresses: [{ ipAddress: '10.1.0.2' }] },
  ],
};
const hostNetworked = {
  id: '/web',
  labels: { HAPROXY_GROUP: 'external' },
  portDefinitions: [{ port: 10101 }],
  tasks: [{ id: 'web.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
};
const base = drain(snapshotBuilder(deps)({ body: { apps: [ipPerTask, hostNetworked] }, hosts: new Map() }));
if (!base.ok) throw new Error(base.error);
const event = (e: Partial<StatusUpdateEvent>): StatusUpdateEvent => ({
  type: 'status_update_event',
  eventType: 'status_update_event',
  appId: '/ct',
  taskId: 'ct.3',
  taskStatus: 'TASK_RUNNING',
  ...e,
});
const serversOf = (built: ReturnType<ReturnType<typeof fastBuilder>>, backend: string) =>
  built.state?.model.services.find((s) => s.backend === backend)?.servers.map((v) => v.ip);

describe('fast path: hosts to resolve', () => {
  test("an IP-per-task app's new task is applied at its container IP, its agent unresolved", () => {
    const built = fastBuilder(deps)([event({ host: 'agent-3.invalid', ipAddresses: ['10.1.0.3'] })], base.value);
    expect(built.refused).toEqual(new Map());
    expect(serversOf(built, 'ct_10100')).toEqual(['10.1.0.1', '10.1.0.2', '10.1.0.3']);
  });

  test('a task that ended goes by its id, whatever host its event names', () => {
    const built = fastBuilder(deps)(
      [event({ taskId: 'web.1', appId: '/web', taskStatus: 'TASK_KILLED', host: 'agent-gone.invalid' })],
      base.value,
    );
    expect(built.refused).toEqual(new Map());
    expect(serversOf(built, 'web_10101') ?? []).toEqual([]);
  });

  test("a host-networking app's new task on a host not resolved yet is still left to the snapshot", () => {
    const built = fastBuilder(deps)(
      [event({ appId: '/web', taskId: 'web.2', host: 'agent-new.invalid', ports: [31001] })],
      base.value,
    );
    expect(built.refused).toEqual(new Map([['/web', 'app /web: host agent-new.invalid not resolved yet']]));
  });
});
