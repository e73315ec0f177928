import { NO_FAULTS, parseFaultRequest } from '../../src/simulator/faults';

describe('simulator fault requests', () => {
  test('extraApps that JSON cannot write are refused before they are installed', () => {
    // 100 000 nested arrays parse (JSON.parse does not recurse) but JSON.stringify overflows its stack:
    // installed, they made every GET /v2/apps answer 500 until the fault was cleared.
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    const r = parseFaultRequest({ extraApps: [{ id: '/deep', labels: { X: deep } }] }, NO_FAULTS);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^\{"extraApps"\} cannot be sent as JSON: Maximum call stack size exceeded/);
    expect(parseFaultRequest({ extraApps: [{ id: '/ok' }] }, NO_FAULTS).ok).toBe(true);
  });
});
