import { isolateInvalid, type Verdict } from '../../src/haproxy/isolate';
import { makeServer, makeService } from '../support/fixtures';

const services = Array.from({ length: 40 }, (_, i) => makeService(`app${String(i).padStart(2, '0')}`, [makeServer(i)]));
/** Stands in for `haproxy -c`: a config fails when it contains any of the bad backends. */
const checker = (bad: Set<string>) => {
  let calls = 0;
  const check = async (subset: readonly { backend: string }[]): Promise<Verdict> => {
    calls++;
    const hit = subset.find((s) => bad.has(s.backend));
    return hit === undefined ? { ok: true } : { ok: false, message: `parsing [haproxy.cfg] : error in backend ${hit.backend}` };
  };
  return { check, calls: () => calls };
};

describe('isolateInvalid: leave out only the apps HAProxy rejects', () => {
  test('finds each culprit with a logarithmic number of validations', async () => {
    const c = checker(new Set(['app07', 'app31']));
    const result = await isolateInvalid(services, c.check);
    expect(result?.kept.map((s) => s.backend)).toEqual(services.map((s) => s.backend).filter((b) => b !== 'app07' && b !== 'app31'));
    expect(result?.problems.map((p) => p.appId)).toEqual(['/app07', '/app31']);
    expect(result?.problems[0]?.message).toMatch(/backend app07.*error in backend app07/);
    expect(c.calls()).toBeLessThanOrEqual(2 + 2 * (Math.ceil(Math.log2(40)) + 1));
  });
  test('a config that fails without any app is a global problem: null', async () => {
    const result = await isolateInvalid(services, async () => ({ ok: false, message: 'bad HAPROXY_HEAD' }));
    expect(result).toBeNull();
  });
  test('nothing to isolate when the config is valid', async () => {
    expect(await isolateInvalid(services, checker(new Set()).check)).toEqual({ kept: services, problems: [] });
  });
});
