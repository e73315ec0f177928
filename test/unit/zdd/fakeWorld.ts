import * as fs from 'node:fs';
import * as path from 'node:path';
import { mergeDeployments } from '../../../src/model/deployments';
import type { MarathonApp } from '../../../src/marathon/types';
import { parseApp, type JsonObject, type ZddApp } from '../../../src/zdd/app';
import { ZddError } from '../../../src/zdd/errors';
import type { ZddIo } from '../../../src/zdd/io';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'zdd');
export const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
export const fixtureText = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

const HEADER =
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight\n';

interface FakeApp {
  readonly def: JsonObject;
  instances: number;
  tasks: { id: string; host: string; ports: number[] }[];
  /** Marathon's versionInfo.lastScalingAt: marathon-lb tells hybrid colours apart by it. */
  scaledAt: number;
}

/**
 * A Marathon and one marathon-lb in memory, on a virtual clock: apps scale at once and their tasks
 * are healthy at once; the stats CSV is what marathon-lb shows for the deployment group, built with
 * the project's own blue/green merge (old tasks it drains are MAINT). `busy` keeps sessions open on
 * chosen servers. Every write is recorded in `calls`.
 */
export class FakeWorld implements ZddIo {
  readonly apps = new Map<string, FakeApp>();
  readonly calls: string[] = [];
  readonly printed: string[] = [];
  readonly logs: string[] = [];
  readonly hooks: (readonly string[])[] = [];
  readonly busy = new Set<string>();
  answers: boolean[] = [];
  clockMs = Date.parse('2026-12-01T12:00:00Z');
  lbDown = false;
  hookFails = false;
  /** Answers of /_haproxy_getpids to give first (then a master and one worker). */
  pids: string[] = [];
  /** getApp reports a Marathon deployment of the newest app this many times. */
  deployingPolls = 0;
  /** The n-th scale (1-based) fails like an unreachable Marathon: the command stops there. */
  failScaleAt = 0;
  /** Tasks whose id starts so are DOWN in HAProxy (they fail its checks; Marathon calls them healthy). */
  downPrefix: string | undefined;
  /** marathon-lb shows no server of the deployment group (another marathon-lb's stats). */
  groupUnseen = false;
  /** Killed tasks that marathon-lb still routed to (UP) or that had sessions: must stay empty. */
  readonly killedUndrained: string[] = [];
  private scales = 0;
  private nextTask = 0;
  private tick = 0;
  private nextPort = 31000;

  readonly log = {
    info: (m: string) => void this.logs.push(m),
    warn: (m: string) => void this.logs.push(`WARN ${m}`),
    debug: (m: string) => void this.logs.push(`DEBUG ${m}`),
  };

  /** Adds an app as Marathon would run it (tasks started, healthy). */
  add(def: JsonObject): void {
    const app: FakeApp = { def, instances: 0, tasks: [], scaledAt: 0 };
    this.apps.set(String(def['id']), app);
    this.setInstances(app, Number(def['instances'] ?? 1));
  }

  private setInstances(app: FakeApp, n: number): void {
    while (app.tasks.length < n) {
      const id = `${String(app.def['id']).slice(1)}.task-${++this.nextTask}`;
      app.tasks.push({ id, host: '10.0.7.31', ports: [this.nextPort++] });
    }
    app.tasks.length = n;
    app.instances = n;
    app.scaledAt = this.clockMs + ++this.tick;
  }

  private view(app: FakeApp): ZddApp {
    const tasks = app.tasks.map((t) => ({ ...t, healthCheckResults: [{ alive: true }] }));
    const versionInfo = { lastScalingAt: new Date(app.scaledAt).toISOString() };
    const parsed = parseApp({ ...app.def, instances: app.instances, tasks, deployments: [], versionInfo }, 'fake');
    if (!parsed.ok) throw new Error(parsed.error.message);
    return parsed.value;
  }

  out(text: string): void {
    this.printed.push(text);
  }
  async listApps(): Promise<readonly ZddApp[]> {
    return [...this.apps.values()].map((a) => this.view(a));
  }
  async getApp(id: string): Promise<ZddApp> {
    const app = this.apps.get(id);
    if (!app)
      throw new ZddError({
        kind: 'marathon-endpoint',
        message: `Error while querying marathon: App '${id}' does not exist`,
      });
    if (this.deployingPolls > 0 && id === [...this.apps.keys()].at(-1)) {
      this.deployingPolls--;
      return { ...this.view(app), deployments: [{ id: 'dep-1' }] };
    }
    return this.view(app);
  }
  async createApp(definition: JsonObject): Promise<void> {
    this.calls.push(`create ${String(definition['id'])} ${String(definition['instances'])}`);
    this.add(definition);
  }
  async scaleApp(id: string, instances: number): Promise<void> {
    if (++this.scales === this.failScaleAt)
      throw new ZddError({
        kind: 'app-scale',
        message: `Error while scaling the app ${id} to ${instances}: connect ECONNREFUSED`,
      });
    this.calls.push(`scale ${id} ${instances}`);
    this.setInstances(this.apps.get(id)!, instances);
  }
  async killTasks(ids: readonly string[]): Promise<void> {
    this.calls.push(`kill ${ids.join(' ')}`);
    const rows = (await this.haproxyStats()).split('\n').map((l) => l.split(','));
    for (const id of ids) {
      const t = [...this.apps.values()].flatMap((a) => a.tasks).find((x) => x.id === id)!;
      const row = rows.find((r) => r[1] === `${t.host.replace(/\./g, '_')}_${t.ports[0]}`);
      if (row?.[17] !== 'MAINT' || row[4] !== '0') this.killedUndrained.push(id);
    }
    for (const app of this.apps.values()) {
      const before = app.tasks.length;
      app.tasks = app.tasks.filter((t) => !ids.includes(t.id));
      if (app.tasks.length === before) continue;
      app.instances = app.tasks.length;
      app.scaledAt = this.clockMs + ++this.tick;
    }
  }
  async deleteApp(id: string): Promise<void> {
    this.calls.push(`delete ${id}`);
    this.apps.delete(id);
  }
  async marathonLbUrls(): Promise<readonly string[]> {
    return ['http://10.0.0.9:9090'];
  }
  /** marathon-lb's view: the group merged by the model code marathon-lb itself runs. */
  async haproxyStats(): Promise<string> {
    if (this.lbDown) throw new Error('connect ECONNREFUSED 10.0.0.9:9090');
    const merged = mergeDeployments([...this.apps.values()].map((a) => this.view(a) as MarathonApp));
    let csv = HEADER;
    for (const app of this.groupUnseen ? [] : merged) {
      const port = app.labels['HAPROXY_0_PORT'];
      const px = `${app.id.slice(1)}_${port}`;
      csv += `${px},FRONTEND,,,0,0,,,,,,,,,,,,OPEN,\n`;
      for (const t of app.tasks) {
        const sv = `${String(t.host).replace(/\./g, '_')}_${t.ports![0]}`;
        const scur = this.busy.has(t.id) ? 1 : 0;
        const status = t.draining
          ? 'MAINT'
          : this.downPrefix !== undefined && t.id.startsWith(this.downPrefix)
            ? 'DOWN'
            : 'UP';
        csv += `${px},${sv},0,0,${scur},1,,,,,,,,,,,,${status},1\n`;
      }
      csv += `${px},BACKEND,0,0,0,0,,,,,,,,,,,,UP,\n`;
    }
    return csv;
  }
  async haproxyPids(): Promise<string> {
    return this.pids.shift() ?? '4101 4102';
  }
  async resolveHosts(hosts: readonly string[]): Promise<ReadonlyMap<string, string>> {
    return new Map(hosts.map((h) => [h, h]));
  }
  async runHook(p: string, args: readonly string[]): Promise<void> {
    this.hooks.push([p, ...args]);
    if (this.hookFails) throw new ZddError({ kind: 'other', message: `pre-kill hook '${p}' exited with status 1` });
  }
  async confirm(question: string): Promise<boolean> {
    this.calls.push(`ask ${question}`);
    return this.answers.shift() ?? false;
  }
  async sleep(seconds: number): Promise<void> {
    this.clockMs += seconds * 1000;
  }
  now(): Date {
    return new Date(this.clockMs);
  }

  /** Ids of the apps left, sorted. */
  appIds(): string[] {
    return [...this.apps.keys()].sort();
  }
}
