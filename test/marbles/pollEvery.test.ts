import { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { pollEvery, type Polled } from '../../src/streams/pollEvery';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const a: Polled<string> = { ok: true, value: 'stats' };

describe('pollEvery (the show stat polling stage)', () => {
  it('reads at once, then every interval; each answer is passed on', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const polled = pollEvery(() => cold('--(a|)', { a }), { intervalMs: 10, timeoutMs: 5, scheduler: ts });
      expectObservable(polled, '^ 24ms !').toBe('--a 9ms a 9ms a', { a });
    });
  });

  it('never overlaps: a tick that finds a read still running is skipped', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const started: number[] = [];
      const polled = pollEvery(
        () => {
          started.push(ts.now());
          return cold('15ms (a|)', { a });
        },
        { intervalMs: 10, timeoutMs: 100, scheduler: ts },
      );
      expectObservable(polled, '^ 49ms !').toBe('15ms a 19ms a', { a });
      flush();
      expect(started).toEqual([0, 20, 40]);
    });
  });

  it('with a share, a tick too soon after a costly read is skipped: reads take at most 1/factor of the time', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const started: number[] = [];
      // The cost clock says each read (and handling its value) took 4 ms: with factor 5, the next read waits 16 ms more.
      let cost = 0;
      const clock = (): number => (cost += 4);
      const polled = pollEvery(
        () => {
          started.push(ts.now());
          return cold('--(a|)', { a });
        },
        { intervalMs: 10, timeoutMs: 5, scheduler: ts, share: { factor: 5, clock } },
      );
      expectObservable(polled, '^ 49ms !').toBe('--a 19ms a 19ms a', { a });
      flush();
      // Done at 2 → not before 2 + 4 × 4 = 18: the tick at 10 is skipped, the one at 20 reads.
      expect(started).toEqual([0, 20, 40]);
    });
  });

  it('with a share, a read refused at once holds nothing back; a timed-out one or one failing late does, up to mostAfterFailure', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const started: number[] = [];
      let cost = 0;
      const clock = (): number => (cost += 4);
      const x: Polled<string> = { ok: false, error: 'cannot talk to HAProxy: ECONNRESET' };
      const y: Polled<string> = { ok: false, error: 'the answer ended early' };
      const reads = [
        () => cold('(x|)', { x }), // HAProxy starting: refused at once
        () => cold<Polled<string>>('-'), // HAProxy stalled: no answer in time
        () => cold('----(y|)', { y }), // cut off after 4 ms of answering (a reload)
        () => cold('--(a|)', { a }),
      ];
      const polled = pollEvery(
        () => {
          started.push(ts.now());
          return reads[started.length - 1]!();
        },
        { intervalMs: 10, timeoutMs: 5, scheduler: ts, share: { factor: 5, clock, mostAfterFailure: 10 } },
      );
      const f: Polled<string> = { ok: false, error: 'no answer within 5 ms' };
      expectObservable(polled, '^ 59ms !').toBe('x 14ms f 18ms y 17ms a', { x, f, y, a });
      flush();
      // The refusal leaves the tick at 10 free; the timeout at 15 would wait 4 × 4 more, 10 at most
      // (20 skipped, 30 reads); the late failure at 34 too (40 skipped).
      expect(started).toEqual([0, 10, 30, 50]);
    });
  });

  it('refusedWithinMs says which failures were refusals: one after it holds the next back', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const started: number[] = [];
      let cost = 0;
      const clock = (): number => (cost += 4);
      const y: Polled<string> = { ok: false, error: 'HAProxy socket: nothing came for 2 ms' };
      const polled = pollEvery(
        () => {
          started.push(ts.now());
          return cold('--(y|)', { y }); // silent for the socket's 2 ms, well within the whole read's 40
        },
        {
          intervalMs: 10,
          timeoutMs: 40,
          refusedWithinMs: 1,
          scheduler: ts,
          share: { factor: 5, clock, mostAfterFailure: 10 },
        },
      );
      expectObservable(polled, '^ 29ms !').toBe('--y 19ms y', { y });
      flush();
      // Not a refusal (after 1 ms): held 10 from 2, so the tick at 10 is skipped. (As a refusal, within
      // a quarter of the 40, it would have read at 10.)
      expect(started).toEqual([0, 20]);
    });
  });

  it("with a share's most, a slow read holds the next back no longer than its value allows", () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const started: number[] = [];
      let cost = 0;
      const clock = (): number => (cost += 10); // each read cost 10: factor 5 would hold the next 40 back
      const polled = pollEvery(
        () => {
          started.push(ts.now());
          return cold('--(a|)', { a });
        },
        { intervalMs: 10, timeoutMs: 5, scheduler: ts, share: { factor: 5, clock, most: () => 15 } },
      );
      expectObservable(polled, '^ 49ms !').toBe('--a 19ms a 19ms a', { a });
      flush();
      expect(started).toEqual([0, 20, 40]);
    });
  });

  it('with a spacing, the next read waits as long as the last value asks', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const started: number[] = [];
      const big: Polled<string> = { ok: true, value: 'big' };
      const values = [big, a, a];
      const polled = pollEvery(
        () => {
          started.push(ts.now());
          return cold('--(v|)', { v: values[started.length - 1]! });
        },
        // A big value (say, 30 000 rows) keeps the next read 25 ms away; a small one asks nothing.
        { intervalMs: 10, timeoutMs: 5, scheduler: ts, spacing: (v) => (v === 'big' ? 25 : 0) },
      );
      expectObservable(polled, '^ 49ms !').toBe('--b 29ms a 9ms a', { a, b: big });
      flush();
      // Big at 2 → not before 27: the ticks at 10 and 20 are skipped; then every tick again.
      expect(started).toEqual([0, 30, 40]);
    });
  });

  it('a read that does not answer in time is abandoned and reported; the polling goes on', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const silent = cold<Polled<string>>('-');
      const polled = pollEvery(() => silent, { intervalMs: 10, timeoutMs: 4, scheduler: ts });
      const f: Polled<string> = { ok: false, error: 'no answer within 4 ms' };
      expectObservable(polled, '^ 19ms !').toBe('4ms f 9ms f', { f });
      expectSubscriptions(silent.subscriptions).toBe(['^---!', '10ms ^---!']);
    });
  });

  it('a read that throws, rejects or answers a failure becomes a failed value', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      let n = 0;
      const reads: (() => Observable<Polled<string>>)[] = [
        () => cold<Polled<string>>('-#', undefined, new Error('boom')),
        () => cold('-(x|)', { x: { ok: false, error: 'HAProxy is not running' } as Polled<string> }),
        () => {
          throw new Error('thrown');
        },
      ];
      const polled = pollEvery(() => reads[n++]!(), { intervalMs: 10, timeoutMs: 5, scheduler: ts });
      expectObservable(polled, '^ 25ms !').toBe('-e 9ms x 8ms t', {
        e: { ok: false, error: 'boom' },
        x: { ok: false, error: 'HAProxy is not running' },
        t: { ok: false, error: 'thrown' },
      });
    });
  });

  it('readNow asks for a read between the ticks, never overlapping one that runs', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, flush }) => {
      const started: number[] = [];
      const polled = pollEvery(
        () => {
          started.push(ts.now());
          return cold('--(a|)', { a });
        },
        // Asked at 5 (between ticks: read), at 21 (the tick's read at 20 still runs: skipped) and at 33.
        { intervalMs: 20, timeoutMs: 10, scheduler: ts, readNow: hot('-----x 15ms x 11ms x') },
      );
      expectObservable(polled, '^ 39ms !').toBe('--a 4ms a 14ms a 12ms a', { a });
      flush();
      expect(started).toEqual([0, 5, 20, 33]);
    });
  });
});
