import { postChangesRouting } from '../../src/reconcile/postedRouting';
import type { ApiPostEvent } from '../../src/marathon/eventTypes';
import { routedApp } from '../../src/marathon/routedFields';
import type { MarathonApp } from '../../src/marathon/types';

/** An app as /v2/apps?embed=apps.tasks lists it, and its definition as an api_post_event carries it. */
const listed: MarathonApp = {
  id: '/web',
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
  instances: 3,
  version: '2026-12-01T10:00:00.000Z',
  versionInfo: { lastScalingAt: '2026-12-01T10:00:00.000Z', lastConfigChangeAt: '2026-12-01T09:00:00.000Z' },
  portDefinitions: [{ port: 10000, protocol: 'tcp' }],
  healthChecks: [],
  tasks: [{ id: 'web.1', host: '10.0.0.1', ports: [31001] }],
  tasksRunning: 3,
  tasksHealthy: 0,
  deployments: [],
};
const { tasks: _t, tasksRunning: _r, tasksHealthy: _h, deployments: _d, ...definition } = listed;
const posted = (def: Record<string, unknown>): ApiPostEvent => ({
  type: 'api_post_event',
  eventType: 'api_post_event',
  appId: String(def['id']),
  appDefinition: def,
});
const scaled = { ...definition, instances: 4, version: '2026-12-01T11:00:00.000Z' };

describe('postChangesRouting: does an app posted to Marathon need a snapshot?', () => {
  test('a scale of a known app (instances and versions only) does not', () => {
    expect(postChangesRouting(posted(scaled), [listed], false)).toBe(false);
  });
  test('a label, port, health check or any other field routing reads changed does', () => {
    expect(
      postChangesRouting(posted({ ...scaled, labels: { ...listed.labels, HAPROXY_0_VHOST: 'x' } }), [listed], false),
    ).toBe(true);
    expect(
      postChangesRouting(posted({ ...scaled, portDefinitions: [{ port: 10001, protocol: 'tcp' }] }), [listed], false),
    ).toBe(true);
    expect(
      postChangesRouting(posted({ ...scaled, healthChecks: [{ protocol: 'HTTP', path: '/' }] }), [listed], false),
    ).toBe(true);
    expect(
      postChangesRouting(posted({ ...scaled, container: { docker: { network: 'BRIDGE' } } }), [listed], false),
    ).toBe(true);
    const { healthChecks: _gone, ...withoutChecks } = scaled;
    expect(postChangesRouting(posted(withoutChecks), [listed], false)).toBe(true);
  });
  test('a field routing does not read (a new command: its new tasks come as task events) does not', () => {
    // The controller holds apps cut down to what routing reads (AppsBodyDecoder): no command to compare.
    const held = routedApp(listed) as MarathonApp;
    expect(held['cmd']).toBeUndefined();
    expect(postChangesRouting(posted({ ...scaled, cmd: 'serve --new', env: { A: '1' } }), [held], false)).toBe(false);
    expect(
      postChangesRouting(
        posted({ ...scaled, cmd: 'serve --new', labels: { HAPROXY_GROUP: 'internal' } }),
        [held],
        false,
      ),
    ).toBe(true);
  });
  test('a definition nested deeper than the stack does, without an error (the snapshot decides)', () => {
    const deep = (): Record<string, unknown> => {
      let d: Record<string, unknown> = {};
      for (let i = 0; i < 100_000; i++) d = { a: d };
      return d;
    };
    const held = { ...listed, readinessChecks: [{ x: deep() }] } as unknown as MarathonApp;
    expect(postChangesRouting(posted({ ...scaled, readinessChecks: [{ x: deep() }] }), [held], false)).toBe(true);
  });
  test('an unknown app, no applied state, no definition, or readiness-aware routing does', () => {
    expect(postChangesRouting(posted({ ...scaled, id: '/new' }), [listed], false)).toBe(true);
    expect(postChangesRouting(posted(scaled), undefined, false)).toBe(true);
    expect(postChangesRouting({ type: 'api_post_event', eventType: 'api_post_event' }, [listed], false)).toBe(true);
    expect(postChangesRouting(posted(scaled), [listed], true)).toBe(true);
  });
  test('an app in a deployment group does (its instances decide which old tasks drain)', () => {
    const grouped = { ...listed, labels: { ...listed.labels, HAPROXY_DEPLOYMENT_GROUP: 'web' } };
    expect(postChangesRouting(posted({ ...scaled, labels: grouped.labels }), [grouped], false)).toBe(true);
  });
});
