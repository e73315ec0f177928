import fc from 'fast-check';
import { createApp, deleteApp, findApp, setLabels, updateApp } from '../../src/simulator/state';
import { emptyState, type Ctx, type Outcome, type SimState } from '../../src/simulator/types';

// The simulator finds apps through an index each list of apps hands on to the next (appIndex.ts).
// Whatever the order of creates, updates and deletes, and on old states as well as the newest,
// findApp answers as a scan of that state's apps does.

const ctx: Ctx = { now: '2026-12-02T00:00:00.000Z', host: '127.0.0.1', seed: 'p' };
const ids = ['/a', '/b', '/g/c', '/g/d', 'e', '/f//'];

type Op =
  | { readonly kind: 'create' | 'delete' | 'restart' | 'label'; readonly id: string }
  | { readonly kind: 'scale'; readonly id: string; readonly instances: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('create', 'delete', 'restart', 'label'),
    id: fc.constantFrom(...ids),
  }) as fc.Arbitrary<Op>,
  fc.record({ kind: fc.constant('scale' as const), id: fc.constantFrom(...ids), instances: fc.nat(3) }),
);

function apply(state: SimState, o: Op, step: number): Outcome {
  switch (o.kind) {
    case 'create':
      return createApp(state, { id: o.id, instances: 1, portDefinitions: [{ port: 0 }] }, ctx);
    case 'delete':
      return deleteApp(state, o.id, ctx);
    case 'restart':
      return updateApp(state, o.id, { portDefinitions: [{ port: 0 }, { port: 0 }] }, ctx);
    case 'label':
      return setLabels(state, o.id, { STEP: String(step) }, false, ctx);
    case 'scale':
      return updateApp(state, o.id, { instances: o.instances }, ctx);
  }
}

const scan = (state: SimState, id: string) => state.apps.find((a) => a.def.id === `/${id.replace(/^\/+|\/+$/g, '')}`);

test('findApp equals a scan of the apps, on every state of random sequences, old ones included', () => {
  fc.assert(
    fc.property(
      fc.array(op, { maxLength: 40 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
      (ops, lookBack) => {
        const states: SimState[] = [emptyState()];
        ops.forEach((o, step) => {
          const out = apply(states[states.length - 1]!, o, step);
          if (out.ok) states.push(out.value.state);
          // Each new state is looked up at once, as the engine does, and an older one now and then.
          for (const id of [...ids, '/nope', ''])
            expect(findApp(states[states.length - 1]!, id)).toBe(scan(states[states.length - 1]!, id));
          const older = states[lookBack[step % lookBack.length]! % states.length]!;
          for (const id of ids) expect(findApp(older, id)).toBe(scan(older, id));
        });
        for (const s of states) for (const id of ids) expect(findApp(s, id)).toBe(scan(s, id));
      },
    ),
    { numRuns: 300 },
  );
});
