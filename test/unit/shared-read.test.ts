import { VirtualTimeScheduler } from 'rxjs';
import { sharedBoundedRead } from '../../src/admin/sharedRead';

/** Lets the promise callbacks queued so far run. */
const settled = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('sharedBoundedRead: one read in flight for all callers, null past the bound', () => {
  test('callers at the same time share one read and its answer', async () => {
    let reads = 0;
    let answer!: (n: number) => void;
    const read = sharedBoundedRead(
      () => (reads++, new Promise<number>((r) => (answer = r))),
      2000,
      new VirtualTimeScheduler(),
    );
    const both = Promise.all([read(), read()]);
    answer(7);
    expect(await both).toEqual([7, 7]);
    expect(reads).toBe(1);
  });

  test('a read that does not answer within the bound gives null; the next caller shares it while it runs, then reads afresh', async () => {
    const scheduler = new VirtualTimeScheduler();
    let reads = 0;
    const answers: ((n: number) => void)[] = [];
    const read = sharedBoundedRead(() => (reads++, new Promise<number>((r) => answers.push(r))), 2000, scheduler);
    const first = read();
    scheduler.flush();
    expect(await first).toBeNull();
    const second = read();
    expect(reads).toBe(1);
    answers[0]!(3);
    expect(await second).toBe(3);
    await settled();
    const third = read();
    expect(reads).toBe(2);
    answers[1]!(4);
    expect(await third).toBe(4);
  });

  test('a failed read fails its callers, and the next call reads again', async () => {
    let reads = 0;
    const read = sharedBoundedRead(
      () => (reads++ === 0 ? Promise.reject(new Error('socket gone')) : Promise.resolve(5)),
      2000,
      new VirtualTimeScheduler(),
    );
    await expect(read()).rejects.toThrow('socket gone');
    await settled();
    expect(await read()).toBe(5);
    expect(reads).toBe(2);
  });
});
