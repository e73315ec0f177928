import { HostResolver, type Deadline, type Lookup } from '../../src/marathon/hostResolver';

const body = (...hosts: string[]) => ({ apps: [{ id: '/a', tasks: hosts.map((host, i) => ({ id: `a.${i}`, host })) }] });

/** A name server under test control: answers, refusals and names that hang until released. */
function nameServer(addresses: Record<string, string>) {
  const calls: string[] = [];
  const stuck = new Map<string, (address: string) => void>();
  const lookup: Lookup = (host) => {
    calls.push(host);
    if (host.startsWith('stuck')) return new Promise((resolve) => stuck.set(host, resolve));
    const a = addresses[host];
    return a === undefined ? Promise.reject(new Error('ENOTFOUND')) : Promise.resolve(a);
  };
  return { lookup, calls, release: (host: string, address: string) => stuck.get(host)?.(address) };
}

/** A deadline the test reaches by hand. */
function manualDeadline() {
  let reach = (): void => undefined;
  const deadline: Deadline = () => ({ reached: new Promise<void>((r) => (reach = r)), cancel: () => undefined });
  return { deadline, reach: () => reach() };
}

describe('HostResolver', () => {
  test('resolves names, leaves IP literals alone and drops names that do not exist', async () => {
    const ns = nameServer({ 'agent-1': '10.0.0.1' });
    const r = new HostResolver(ns.lookup, manualDeadline().deadline);
    expect(await r.resolve(body('agent-1', '10.0.0.9', 'gone'), 1000)).toEqual(new Map([['agent-1', '10.0.0.1']]));
    expect(ns.calls.sort()).toEqual(['agent-1', 'gone']);
  });

  test('a name that never answers does not hold the snapshot past the deadline; it keeps its last known address', async () => {
    const ns = nameServer({ 'agent-1': '10.0.0.1' });
    const d = manualDeadline();
    const r = new HostResolver(ns.lookup, d.deadline);
    const first = r.resolve(body('agent-1', 'stuck-1'), 1000);
    await new Promise((res) => setImmediate(res));
    d.reach();
    expect(await first).toEqual(new Map([['agent-1', '10.0.0.1']]));
    ns.release('stuck-1', '10.0.0.7'); // answered late: known from now on
    await new Promise((res) => setImmediate(res));
    const second = r.resolve(body('agent-1', 'stuck-1'), 1000); // its new lookup hangs again
    await new Promise((res) => setImmediate(res));
    d.reach();
    expect(await second).toEqual(new Map([['agent-1', '10.0.0.1'], ['stuck-1', '10.0.0.7']]));
  });

  test('one lookup per stuck name at a time, whatever the number of snapshots', async () => {
    const ns = nameServer({});
    const d = manualDeadline();
    const r = new HostResolver(ns.lookup, d.deadline);
    for (let i = 0; i < 5; i++) {
      const p = r.resolve(body('stuck-a', 'stuck-b'), 1000);
      await new Promise((res) => setImmediate(res));
      d.reach();
      expect(await p).toEqual(new Map());
    }
    expect(ns.calls.sort()).toEqual(['stuck-a', 'stuck-b']);
  });

  test('names no longer in a snapshot are forgotten', async () => {
    const ns = nameServer({ 'agent-1': '10.0.0.1', 'agent-2': '10.0.0.2' });
    const r = new HostResolver(ns.lookup, manualDeadline().deadline);
    await r.resolve(body('agent-1', 'agent-2'), 1000);
    expect(await r.resolve(body('agent-2'), 1000)).toEqual(new Map([['agent-2', '10.0.0.2']]));
    expect(ns.calls.filter((h) => h === 'agent-2')).toHaveLength(2); // looked up again: answers are not cached beyond a snapshot
  });
});
