/**
 * RuntimeUpdater takes an `add server` as done only when HAProxy says "New server registered.": an
 * empty or other answer is no success, and the update goes by a reload instead of leaving the
 * server out of rotation until the next one. The commands after it answer nothing when they take.
 */
import type { CommandChannel } from '../../src/haproxy/masterSocket';
import { RuntimeUpdater } from '../../src/haproxy/runtimeUpdate';
import type { RuntimeOp } from '../../src/reconcile/plan';
import { ok } from '../../src/result';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const add: RuntimeOp = {
  kind: 'add-server',
  backend: 'app',
  server: { name: 's1', id: 7, host: '10.0.0.1', ip: '10.0.0.1', port: 31001, draining: false, healthCheckPort: null },
};
const lines = new Map([['app', new Map([['s1', '  server s1 10.0.0.1:31001 id 7']])]]);

/** A channel answering each command by `answer`, recording what it was sent. */
function channel(answer: (cmd: string) => string): CommandChannel & { readonly sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    send: (cmd) => (sent.push(cmd), Promise.resolve(ok(answer(cmd)))),
    sendAll: (cmds) => (sent.push(...cmds), Promise.resolve(ok(cmds.map(answer)))),
  };
}

test('an add server HAProxy registered, then enabled, goes through', async () => {
  const c = channel((cmd) => (cmd.startsWith('add server') ? 'New server registered.\n' : ''));
  expect(await new RuntimeUpdater(c, quiet).apply([add], (be) => lines.get(be))).toBeNull();
  expect(c.sent).toEqual(['add server app/s1 10.0.0.1:31001 id 7', 'enable server app/s1']);
});

test.each(['', 'Server s1 state updated.\n', 'Backend is using a static LB algorithm.\n'])(
  'an add server answered %j is refused: a reload instead',
  async (answer) => {
    const c = channel((cmd) => (cmd.startsWith('add server') ? answer : ''));
    expect(await new RuntimeUpdater(c, quiet).apply([add], (be) => lines.get(be))).toMatchObject({
      kind: 'runtime-refused',
      detail: expect.stringMatching(/^add server app\/s1 10\.0\.0\.1:31001 id 7: /),
    });
  },
);
