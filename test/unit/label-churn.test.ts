/**
 * A controller renders with one template set for its whole life. Per-app template labels are
 * compiled once per distinct text and kept for the next renders; kept for good, every text an app
 * ever had stayed in memory (a label that changes with every deploy, or on purpose), and a
 * controller running for weeks grew without bound. These renders go through one template set and
 * one RenderCache, as the controller's do, and the heap after a full GC must not keep the old texts.
 */
import * as v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ServerMemo } from '../../src/model/serverIds';
import { RenderCache } from '../../src/render/render';
import { renderSnapshot } from '../../src/render/snapshot';
import { resolverFrom } from '../../src/marathon/resolveHosts';
import { parseArgs } from '../../src/cli/args';
import { modelOptions, renderOptions } from '../../src/wiring/parts';
import { templates } from '../property/configChecks';

function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const heapAfterGc = (): number => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

test('label texts an app no longer has are not kept across renders', () => {
  const set = templates();
  const ctx = { resolve: resolverFrom(new Map()), servers: new ServerMemo(), renderCache: new RenderCache() };
  const flags = parseArgs(['--group', 'external', '--haproxy-version', '2.6'], {});
  if (!flags.ok) throw new Error('bad flags');
  const opts = { model: modelOptions(flags.value, {}), render: renderOptions(flags.value, {}) };
  const comment = 'x'.repeat(100_000);
  const body = (step: number) => ({
    apps: [
      {
        id: '/churn',
        labels: {
          HAPROXY_GROUP: 'external',
          // A new text at each deploy: 100 KB each, 30 MB over the steps below if they were all kept.
          HAPROXY_0_BACKEND_HEAD: `backend {backend}\n  balance {balance}\n  mode {mode}\n  # deploy ${step} ${comment}\n`,
        },
        portDefinitions: [{ port: 10000 }],
        tasks: [{ id: 'churn.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
      },
    ],
  });
  const render = (step: number): void => {
    const s = renderSnapshot(body(step), set, opts, ctx);
    if (!s.ok) throw new Error(s.error);
    expect(s.value.problems).toEqual([]);
    expect(s.value.rendered.config).toContain(`# deploy ${step} x`); // each deploy's text is served
  };
  for (let step = 0; step < 10; step++) render(step);
  const before = heapAfterGc();
  for (let step = 10; step < 310; step++) render(step);
  const grown = heapAfterGc() - before;
  expect(grown).toBeLessThan(5 * (1 << 20));
});

test('snapshots that change nothing keep the label texts in use: the next change does not compile them again', () => {
  const set = templates();
  const ctx = { resolve: resolverFrom(new Map()), servers: new ServerMemo(), renderCache: new RenderCache() };
  const flags = parseArgs(['--group', 'external', '--haproxy-version', '2.6'], {});
  if (!flags.ok) throw new Error('bad flags');
  const opts = { model: modelOptions(flags.value, {}), render: renderOptions(flags.value, {}) };
  const head = 'backend {backend}\n  balance {balance}\n  mode {mode}\n  # kept\n';
  const body = (port: number) => ({
    apps: [
      {
        id: '/steady',
        labels: { HAPROXY_GROUP: 'external', HAPROXY_0_BACKEND_HEAD: head },
        portDefinitions: [{ port: 10000 }],
        tasks: [{ id: 'steady.1', host: '10.0.0.1', ports: [port], state: 'TASK_RUNNING' }],
      },
    ],
  });
  const render = (port: number): void => {
    const s = renderSnapshot(body(port), set, opts, ctx);
    if (!s.ok) throw new Error(s.error);
    expect(s.value.rendered.config).toContain(`10.0.0.1:${port}`);
  };
  render(31000);
  const compiled = set.fromLabel('BACKEND_HEAD', head);
  for (let i = 0; i < 5; i++) render(31000); // nothing routed changes
  render(31001); // a task moves: the service renders again, reading its label
  expect(set.fromLabel('BACKEND_HEAD', head)).toBe(compiled);
});
