/**
 * Bounds on what an apps body can make the controller hold, found by an attack: a 31 MB body of ten
 * million `{}` (137 KB gzipped) held a controller for minutes, its RSS at 2.75 GB, deaf to /healthz
 * and SIGTERM; a million of them took 9 s and 1.2 GB, one problem kept and logged per app.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_APPS, MAX_BODY_VALUES, TOO_MANY_APPS, TooManyAppsError } from '../../src/marathon/appsBound';
import { AppsBodyDecoder } from '../../src/marathon/appsBody';
import { parseAppsBytes, readAppsFile } from '../../src/marathon/appsFile';
import { parseAppsJson } from '../../src/model/appsJson';
import { tempDir } from '../support/render';

const emptyApps = (n: number): string => `{"apps": [${Array.from({ length: n }, () => '{}').join(',')}]}`;
const goodApp = '{"id": "/ok", "labels": {"HAPROXY_GROUP": "external"}, "tasks": []}';

describe('an apps body of more apps than any Marathon runs', () => {
  test(`a body of more than ${MAX_APPS} apps is refused as it is read, on every path`, () => {
    const over = Buffer.from(emptyApps(MAX_APPS + 1));
    expect(() => new AppsBodyDecoder().decode(over)).toThrow(TooManyAppsError);
    // The decoder guided by a previous answer (the controller's every later read) stops too.
    const decoder = new AppsBodyDecoder();
    decoder.decode(Buffer.from(`{"apps": [${goodApp}]}`));
    expect(() => decoder.decode(over)).toThrow(TooManyAppsError);
    expect(parseAppsBytes('standard input', over)).toEqual({
      ok: false,
      error: `apps file standard input: ${TOO_MANY_APPS}`,
    });
    const file = path.join(tempDir('mlb-bound-'), 'apps.json');
    fs.writeFileSync(file, over);
    expect(readAppsFile(file)).toEqual({ ok: false, error: `apps file ${file}: ${TOO_MANY_APPS}` });
    expect(parseAppsJson({ apps: new Array<unknown>(MAX_APPS + 1).fill({}) })).toEqual({
      ok: false,
      error: TOO_MANY_APPS,
    });
  });

  // An audit: one app of twenty million `{}` tasks (60 MB) held a controller 25 s and took it to 2.3 GB.
  test(`past ${MAX_BODY_VALUES} array items and object fields made, a body is refused as it is read: tasks, labels`, () => {
    const many = (n: number, item: (i: number) => string): string =>
      Array.from({ length: n }, (_, i) => item(i)).join(',');
    const tasks = Buffer.from(`{"apps": [${goodApp}, {"id": "/t", "tasks": [${many(MAX_BODY_VALUES, () => '{}')}]}]}`);
    expect(() => new AppsBodyDecoder().decode(tasks)).toThrow(/more than 6000000 array items and object fields/);
    const decoder = new AppsBodyDecoder(); // guided by a previous answer, as every later read is
    decoder.decode(Buffer.from(`{"apps": [${goodApp}]}`));
    expect(() => decoder.decode(tasks)).toThrow(TooManyAppsError);
    const labels = Buffer.from(`{"apps": [{"id": "/l", "labels": {${many(MAX_BODY_VALUES, (i) => `"${i}":0`)}}}]}`);
    expect(parseAppsBytes('standard input', labels)).toMatchObject({
      ok: false,
      error: /^apps file standard input: the body holds more than/,
    });
    // A body of many apps, each small, under the bound: read.
    const fine = new AppsBodyDecoder().decode(
      Buffer.from(`{"apps": [${many(1000, (i) => `{"id": "/a${i}", "tasks": [${many(100, () => '{}')}]}`)}]}`),
    ) as { apps: unknown[] };
    expect(fine.apps).toHaveLength(1000);
  }, 120_000); // three bodies of six million values, made and read

  test(`a body of ${MAX_APPS} apps is read`, () => {
    const body = new AppsBodyDecoder().decode(Buffer.from(emptyApps(MAX_APPS))) as { apps: unknown[] };
    expect(body.apps).toHaveLength(MAX_APPS);
  });

  // An audit: `"id": ""` was logged as "left out app  field id" (no name, two blanks).
  test('an app whose id is empty is named by its place in the body', () => {
    const parsed = parseAppsJson({ apps: [JSON.parse(goodApp), { id: '', tasks: [] }] });
    expect(parsed.ok && parsed.value.problems).toEqual([
      { appId: 'apps[1]', portIndex: null, label: 'id', message: 'must be a non-empty string' },
    ]);
  });

  // An audit: an app of another group with a broken task was logged as left out by this load balancer.
  test('with --group, an app no group of it selects is left out without a word; one that may be, named', () => {
    const broken = (labels: Record<string, string>, id: string) => ({ id, labels, tasks: [{ id: 7 }] });
    const parsed = parseAppsJson(
      {
        apps: [
          broken({ HAPROXY_GROUP: 'other' }, '/other'),
          broken({ HAPROXY_GROUP: 'other,external' }, '/both'),
          broken({ HAPROXY_GROUP: 'other', HAPROXY_1_GROUP: 'external' }, '/port'),
          broken({}, '/none'),
          { id: '/odd', labels: { HAPROXY_GROUP: 5 }, tasks: [{ id: 7 }] },
        ],
      },
      undefined,
      ['external'],
    );
    expect(parsed.ok && parsed.value.problems.map((p) => p.appId)).toEqual(['/both', '/port', '/odd']);
  });

  test('apps left out for their shape are listed up to a thousand, the rest counted in one problem', () => {
    const parsed = parseAppsJson(JSON.parse(`{"apps": [${goodApp}, ${emptyApps(1500).slice(10, -2)}]}`));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.apps.map((a) => a.id)).toEqual(['/ok']);
    expect(parsed.value.problems).toHaveLength(1001);
    expect(parsed.value.problems[0]).toEqual({
      appId: 'apps[1]',
      portIndex: null,
      label: 'id',
      message: 'must be a non-empty string',
    });
    expect(parsed.value.problems[1000]).toEqual({
      appId: '(more apps)',
      portIndex: null,
      label: 'apps',
      message: '500 more apps are left out for JSON without the shape routing relies on (the first 1000 are listed)',
    });
  });
});

describe("a UTF-8 byte-order mark before the body (as marathon-lb's requests took one)", () => {
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
  const body = Buffer.from(`{"apps": [${goodApp}]}`);
  const ids = (v: unknown): string[] => (v as { apps: { id: string }[] }).apps.map((a) => a.id);
  test('is read past on every path: an answer, standard input, a file read whole or app by app', () => {
    const decoder = new AppsBodyDecoder();
    expect(ids(decoder.decode(Buffer.concat([BOM, body])))).toEqual(['/ok']);
    expect(ids(decoder.decode(Buffer.concat([BOM, body])))).toEqual(['/ok']); // guided by the last answer
    // An answer the app reader does not take (another shape) is parsed whole, past the mark too.
    expect(new AppsBodyDecoder().decode(Buffer.concat([BOM, Buffer.from('{"x": 1, "apps": []}')]))).toMatchObject({
      apps: [],
    });
    for (const whole of [0, 1 << 20]) {
      const r = parseAppsBytes('standard input', Buffer.concat([BOM, body]), whole);
      expect(r.ok && ids(r.value)).toEqual(['/ok']);
      const file = path.join(tempDir('mlb-bom-'), 'apps.json');
      fs.writeFileSync(file, Buffer.concat([BOM, body]));
      const f = readAppsFile(file, { wholeBelowBytes: whole });
      expect(f.ok && ids(f.value)).toEqual(['/ok']);
    }
  });
});
