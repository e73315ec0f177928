/**
 * A task event without ports is the snapshot's to decide (an audit): applied, the task was dialled
 * at the app's service port, marathon-lb's fallback for Marathon < 1.5, and one event with
 * `"ports": []` put HAProxy's own frontend among the app's servers.
 */
import type { FastEvent, FastState } from '../../src/reconcile/fastApply';
import { fastApplyAll } from '../../src/reconcile/fastApply';
import { toModel, type ModelOptions } from '../../src/model/services';
import type { MarathonApp } from '../../src/marathon/types';

const opts: ModelOptions = { groups: ['external'], healthCheck: false, strictMode: false, servicePortRange: null };
const ctx = { resolve: (h: string): string => h };
const web: MarathonApp = {
  id: '/web',
  labels: { HAPROXY_GROUP: 'external' },
  portDefinitions: [{ port: 10001 }],
  tasks: [{ id: 'web.1', host: '10.0.0.1', ports: [31001], state: 'TASK_RUNNING' }],
};
const state: FastState = { apps: [web], model: toModel([web], opts, ctx) };
const running = (taskId: string, more: Partial<Extract<FastEvent, { type: 'status_update_event' }>>): FastEvent => ({
  type: 'status_update_event',
  eventType: 'status_update_event',
  appId: '/web',
  taskId,
  taskStatus: 'TASK_RUNNING',
  host: '127.0.0.1',
  ...more,
});
const servers = (events: FastEvent[]) => {
  const r = fastApplyAll(state, events, opts, ctx);
  return {
    refused: [...r.refused.keys()],
    servers: r.state.model.services[0]!.servers.map((s) => `${s.host}:${s.port}`),
  };
};

describe('a running task event without ports of its own is left to the snapshot', () => {
  test.each([
    ['a new task with "ports": []', running('web.2', { ports: [] })],
    ['a new task with no ports field', running('web.2', {})],
    ['a known task whose event empties its ports', running('web.1', { host: '10.0.0.1', ports: [] })],
  ])('%s', (_name, event) => {
    const r = servers([event]);
    expect(r.servers).toEqual(['10.0.0.1:31001']);
    expect(r.refused).toEqual(['/web']);
  });

  test('with ports it applies, and an end of a task applies without them', () => {
    expect(servers([running('web.2', { ports: [31002] })]).servers).toEqual(['10.0.0.1:31001', '127.0.0.1:31002']);
    expect(servers([running('web.1', { taskStatus: 'TASK_KILLED', host: undefined })]).servers).toEqual([]);
  });
});
