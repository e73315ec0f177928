import type { SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { inSlices } from '../../src/streams/inSlices';
import { drain, finished } from '../../src/steps';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** Five steps that take 4 ms each (on `work.ms`), logged; the result is 'done'. */
function* fiveSteps(log: string[], work: { ms: number }): Generator<void, string, undefined> {
  for (let i = 1; i <= 5; i++) {
    log.push(`step ${i}`);
    work.ms += 4;
    yield;
  }
  return 'done';
}

describe('inSlices', () => {
  it('runs the steps in tasks of about sliceMs, other tasks in between, and emits the result', () => {
    const ts = newScheduler();
    const log: string[] = [];
    const work = { ms: 0 };
    // Virtual time stands still within a task: the steps' own time is added to the clock.
    const clock: SchedulerLike = { now: () => ts.now() + work.ms, schedule: ts.schedule.bind(ts) };
    const results: string[] = [];
    inSlices(() => fiveSteps(log, work), clock, { sliceMs: 10 }).subscribe({
      next: (v) => results.push(v),
      complete: () => log.push('complete'),
    });
    ts.schedule(() => log.push('another task')); // queued after the first slice
    ts.flush();
    // 4 + 4 < 10, 12 >= 10: three steps, then the other task, then the rest.
    expect(log).toEqual(['step 1', 'step 2', 'step 3', 'another task', 'step 4', 'step 5', 'complete']);
    expect(results).toEqual(['done']);
  });

  it('waits while waitWhile() holds', () => {
    const ts = newScheduler();
    ts.run(({ expectObservable }) => {
      const steps = inSlices(() => fiveSteps([], { ms: 0 }), ts, { sliceMs: 10, waitWhile: () => ts.now() < 5 });
      expectObservable(steps).toBe('5ms (d|)', { d: 'done' });
    });
  });

  it('never waits more than maxWaitMs before a slice: a storm of waits does not starve the work', () => {
    const ts = newScheduler();
    ts.run(({ expectObservable }) => {
      const steps = inSlices(() => fiveSteps([], { ms: 0 }), ts, { sliceMs: 10, waitWhile: () => true, maxWaitMs: 3 });
      expectObservable(steps).toBe('3ms (d|)', { d: 'done' });
    });
  });

  it('passes on an error thrown by a step', () => {
    const ts = newScheduler();
    ts.run(({ expectObservable }) => {
      // eslint-disable-next-line require-yield -- it throws at its first step
      function* failing(): Generator<void, string, undefined> {
        throw new Error('bug');
      }
      expectObservable(inSlices(failing, ts, { sliceMs: 10 })).toBe('#', undefined, new Error('bug'));
    });
  });

  it('stops the work when unsubscribed: no more steps, and its finally runs', () => {
    const ts = newScheduler();
    const log: string[] = [];
    ts.run(({ expectObservable }) => {
      function* steps(): Generator<void, string, undefined> {
        try {
          for (let i = 1; ; i++) {
            log.push(`step ${i}`);
            yield;
          }
        } finally {
          log.push('finally');
        }
      }
      // One step per slice, the k-th not before 2(k - 1) ms.
      const waitWhile = (): boolean => ts.now() < 2 * log.length;
      expectObservable(inSlices(steps, ts, { sliceMs: 0, waitWhile }), '^----!').toBe('-');
    });
    expect(log).toEqual(['step 1', 'step 2', 'step 3', 'finally']);
  });

  it('drain runs steps at once; finished is a result with no steps', () => {
    expect(drain(fiveSteps([], { ms: 0 }))).toBe('done');
    expect(drain(finished(42))).toBe(42);
  });
});
