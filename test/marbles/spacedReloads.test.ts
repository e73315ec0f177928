import { TestScheduler } from 'rxjs/testing';
import { spacedReloads } from '../../src/admin/spacedReloads';

const newScheduler = (): TestScheduler => new TestScheduler((a, b) => expect(a).toEqual(b));

describe('spacedReloads', () => {
  it("a flood of reloads asked over HTTP is one at once and one at the spacing's end; refetches pass as they come", () => {
    const t = newScheduler();
    t.run(({ hot, expectObservable }) => {
      const asked = hot<'hup' | 'usr1'>('-uuuhu 5ms u 20ms u', { u: 'usr1', h: 'hup' });
      expectObservable(asked.pipe(spacedReloads(10, t))).toBe('-u--h------u 20ms u', {
        u: 'usr1',
        h: 'hup',
      });
    });
  });
});
