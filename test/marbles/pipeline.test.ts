import { NEVER, Observable, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { StreamItem } from '../../src/marathon/events';
import type { Server, Service } from '../../src/model/types';
import { AppliedState } from '../../src/streams/appliedState';
import type { DesiredState } from '../../src/streams/applyPort';
import { pipeline, type PipelineEvent } from '../../src/streams/pipeline';
import { RecordingHaproxy } from '../support/recordingHaproxy';

const server = (n: number): Server => ({ name: `s${n}`, id: n, host: 'h', ip: '10.0.0.1', port: 31000 + n, draining: false, healthCheckPort: null });
const service = (servers: number[]): Service => ({
  appId: '/a', servicePort: 10000, backend: 'a_10000', mode: 'http', balance: 'roundrobin', bindAddr: '*', bindOptions: null, sslCert: null,
  hostname: null, path: null, auth: null, sticky: false, redirectHttpToHttps: false, useHsts: false, backendWeight: 0, networkAllowed: null,
  proxyPath: null, revProxyPath: null, redirPath: null, healthCheck: null, backendCheckPort: null, templateLabels: {}, servers: servers.map(server),
});
/** A snapshot is just the list of task numbers of app /a; 'bad' is an invalid snapshot. */
type Snap = number[] | 'bad';
const cfgOf = (tasks: number[]): string => `backend a_10000\n${tasks.map((n) => `  server s${n} 10.0.0.1:${31000 + n}\n`).join('')}`;
const build = (snap: Snap): DesiredState | { error: string } =>
  snap === 'bad' ? { error: 'apps[0].id must be a non-empty string' }
    : { model: { services: [service(snap)], problems: [] }, rendered: { config: cfgOf(snap), domainMap: '', appMap: '', served: [], problems: [] } };
const event = (): StreamItem => ({ kind: 'event', event: { type: 'status_update_event', eventType: 'status_update_event' } as never });

function setup(t: TestScheduler, opts: { items: Observable<StreamItem>; signals?: Observable<'hup' | 'usr1'>; snapshots: Snap[] }) {
  const haproxy = new RecordingHaproxy();
  const applied = new AppliedState();
  const events: PipelineEvent[] = [];
  let fetches = 0;
  const run$ = pipeline<Snap>({
    items$: opts.items,
    signals$: opts.signals ?? NEVER,
    fetch: () => {
      const snap = opts.snapshots[Math.min(fetches, opts.snapshots.length - 1)]!;
      fetches++;
      return of(snap);
    },
    build,
    haproxy,
    applied,
    report: (e) => events.push(e),
    scheduler: t,
    timing: { quietMs: 5, maxWaitMs: 20, resyncIntervalMs: 1000, backoff: { initialMs: 10, maxMs: 40, factor: 2, jitter: () => 1 } },
  });
  return { haproxy, applied, events, run$, fetches: () => fetches };
}

const newScheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

describe('pipeline (virtual time)', () => {
  test('startup and a burst of events inside the max wait → one fetch, one apply', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-a-e-e-e-e', { a: { kind: 'connected', url: 'x' }, e: event() });
      const s = setup(t, { items, snapshots: [[1], [1, 2]] });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      // startup + connected + 4 events all within 20 ms max wait, quiet after → 1 fetch.
      expect(s.fetches()).toBe(1);
      expect(s.haproxy.applies.map((a) => a.config)).toEqual([cfgOf([1])]);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1]));
    });
  });

  test('an unchanged snapshot skips HAProxy; task churn is planned as runtime ops', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-------------------------------e-------------------------------e', { e: event() });
      const s = setup(t, { items, snapshots: [[1], [1], [1, 2]] });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      expect(s.fetches()).toBe(3);
      expect(s.events.filter((e) => e.kind === 'unchanged')).toHaveLength(1);
      expect(s.haproxy.applies).toHaveLength(2);
      expect(s.haproxy.applies[1]!.plan).toEqual({ runtimeOps: [{ kind: 'add-server', backend: 'a_10000', server: server(2) }], reloadReasons: [] });
    });
  });

  test('a failed apply keeps lastApplied, retries with backoff, then commits', () => {
    const t = newScheduler();
    t.run(({ flush }) => {
      const s = setup(t, { items: NEVER, snapshots: [[1]] });
      s.haproxy.failNext(2);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      t.schedule(() => expect(s.applied.current).toBeNull(), 20);
      flush();
      expect(s.haproxy.applies).toHaveLength(3);
      const failures = s.events.filter((e): e is Extract<PipelineEvent, { kind: 'apply-failed' }> => e.kind === 'apply-failed');
      expect(failures.map((f) => f.retryInMs)).toEqual([10, 20]);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1]));
    });
  });

  test('an invalid snapshot is reported once and the last applied state is kept', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('--------------------e-------------------------e', { e: event() });
      const s = setup(t, { items, snapshots: [[1], 'bad', 'bad'] });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      expect(s.events.filter((e) => e.kind === 'snapshot-invalid')).toEqual([{ kind: 'snapshot-invalid', error: 'apps[0].id must be a non-empty string' }]);
      expect(s.haproxy.applies).toHaveLength(1);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1]));
    });
  });

  test('SIGUSR1 re-applies the existing config; SIGHUP refetches', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const signals = hot<'hup' | 'usr1'>('----------------------------------u-------------------------h', { u: 'usr1', h: 'hup' });
      const s = setup(t, { items: NEVER, signals, snapshots: [[1], [1, 3]] });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      expect(s.haproxy.reloadsOfExisting).toBe(1);
      expect(s.fetches()).toBe(2);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1,3]));
    });
  });

  test('a failed fetch is reported and the pipeline keeps going', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('---------------------------e', { e: event() });
      let n = 0;
      const haproxy = new RecordingHaproxy();
      const events: PipelineEvent[] = [];
      const sub = pipeline<Snap>({
        items$: items, signals$: NEVER, build, haproxy, applied: new AppliedState(), report: (e) => events.push(e), scheduler: t,
        fetch: () => (n++ === 0 ? throwError(() => new Error('all Marathon URLs failed')) : of([4])),
        timing: { quietMs: 5, maxWaitMs: 20, resyncIntervalMs: 1000, backoff: { initialMs: 10, maxMs: 40, factor: 2, jitter: () => 1 } },
      }).subscribe();
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      expect(events.filter((e) => e.kind === 'fetch-failed')).toEqual([{ kind: 'fetch-failed', error: 'all Marathon URLs failed' }]);
      expect(haproxy.applies.map((a) => a.config)).toEqual([cfgOf([4])]);
    });
  });
});
