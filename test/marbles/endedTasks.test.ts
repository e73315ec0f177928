import { TestScheduler } from 'rxjs/testing';
import type { MarathonEvent } from '../../src/marathon/eventTypes';
import { withoutEndedTasks } from '../../src/reconcile/endedTasks';

const newScheduler = (): TestScheduler => new TestScheduler((a, b) => expect(a).toEqual(b));

const status = (taskId: string, taskStatus: string): MarathonEvent => ({
  type: 'status_update_event',
  eventType: 'status_update_event',
  appId: '/a',
  taskId,
  taskStatus,
  host: 'h',
  ports: [31000],
});

describe('withoutEndedTasks', () => {
  it('drops a later state of a task an earlier event ended, and says why; other events pass', () => {
    newScheduler().run(({ hot, expectObservable, flush }) => {
      const dropped: string[] = [];
      const values = {
        r: status('t1', 'TASK_RUNNING'),
        k: status('t1', 'TASK_KILLED'),
        s: status('t1', 'TASK_STAGING'),
        f: status('t1', 'TASK_FAILED'), // ending again passes: it only takes a server out
        u: status('t2', 'TASK_RUNNING'),
        p: { type: 'api_post_event', eventType: 'api_post_event', appId: '/a' } as MarathonEvent,
      };
      const events = hot<MarathonEvent>('-rk(rs)fupr', values);
      expectObservable(events.pipe(withoutEndedTasks(10, (_e, why) => dropped.push(why)))).toBe('-rk----fup-', values);
      flush();
      expect(dropped).toEqual([
        'app /a: task t1 ended before this TASK_RUNNING (an event out of order): ignored',
        'app /a: task t1 ended before this TASK_STAGING (an event out of order): ignored',
        'app /a: task t1 ended before this TASK_RUNNING (an event out of order): ignored',
      ]);
    });
  });

  it('a lost task is not ended: it may run again under its id once its agent is back', () => {
    newScheduler().run(({ hot, expectObservable }) => {
      const values = { l: status('t1', 'TASK_LOST'), r: status('t1', 'TASK_RUNNING') };
      const events = hot<MarathonEvent>('-lr', values);
      expectObservable(events.pipe(withoutEndedTasks(10, () => undefined))).toBe('-lr', values);
    });
  });

  it('remembers the newest `kept` ended tasks: the oldest is forgotten first', () => {
    newScheduler().run(({ hot, expectObservable }) => {
      const values = {
        a: status('t1', 'TASK_KILLED'),
        b: status('t2', 'TASK_KILLED'),
        c: status('t3', 'TASK_KILLED'),
        x: status('t1', 'TASK_RUNNING'), // forgotten: passes
        y: status('t3', 'TASK_RUNNING'), // kept: dropped
      };
      const events = hot<MarathonEvent>('-abcxy', values);
      expectObservable(events.pipe(withoutEndedTasks(2, () => undefined))).toBe('-abcx-', values);
    });
  });
});
