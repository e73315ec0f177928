import { instant, mergeDeployments } from '../../src/model/deployments';
import type { MarathonApp } from '../../src/marathon/types';

describe('HAPROXY_DEPLOYMENT_STARTED_AT is compared as upstream (dateutil) compares it', () => {
  test.each([
    ['2024-01-02T03:04:05Z', Date.UTC(2024, 0, 2, 3, 4, 5) * 1000],
    ['2024-01-02T03:04:05', Date.UTC(2024, 0, 2, 3, 4, 5) * 1000],
    ['2024-01-02', Date.UTC(2024, 0, 2) * 1000],
    ['20240102T030405', Date.UTC(2024, 0, 2, 3, 4, 5) * 1000],
    ['2024-01-02T03:04:05.000100', Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 100],
    ['2024-01-02T03:04:05.123456789', Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 123456],
    ['2024-01-02T03:04:05+01:00', Date.UTC(2024, 0, 2, 2, 4, 5) * 1000],
    ['2024-01-02T03:04:05-0130', Date.UTC(2024, 0, 2, 4, 34, 5) * 1000],
    ['2024-13-02', -Infinity],
    ['soon', -Infinity],
  ])('%s', (text, micros) => expect(instant(text)).toBe(micros));

  const app = (id: string, startedAt: string, port: number, hosts: string[]): MarathonApp =>
    ({
      id,
      instances: hosts.length,
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_DEPLOYMENT_GROUP: 'g',
        HAPROXY_DEPLOYMENT_STARTED_AT: startedAt,
      },
      portDefinitions: [{ port }],
      tasks: hosts.map((host, i) => ({ id: `${id.slice(1)}.${i}`, host, ports: [32000], state: 'TASK_RUNNING' })),
    }) as unknown as MarathonApp;
  const merged = (blue: string, green: string): string[] =>
    mergeDeployments([app('/g-blue', blue, 10100, ['b1', 'b2']), app('/g-green', green, 10101, ['g1'])])[0]!.tasks.map(
      (t) => `${t.host}${t.draining === true ? ' draining' : ''}`,
    );

  test.each([
    ['a date-time without a zone against a date', '2024-01-01T23:00:00', '2024-01-02'],
    ['microseconds apart (zdd.py writes them)', '2024-01-01T00:00:00.000100', '2024-01-01T00:00:00.000900'],
    ['the compact form', '2024-01-01T23:00:00', '20240102T000000'],
  ])('%s: blue is the older, in any time zone of the process', (_n, blue, green) => {
    const zone = process.env['TZ'];
    try {
      for (const tz of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
        process.env['TZ'] = tz;
        expect([tz, merged(blue, green)]).toEqual([tz, ['b1 draining', 'b2', 'g1']]);
      }
    } finally {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    }
  });
});
