/**
 * `marathon-lb check-labels`: one app definition through the service's own model and renderer,
 * with the service's flags, then `haproxy -c` on the config holding only that app (prepared as
 * the service prepares its first start: bundled Lua, a self-signed certificate when the default
 * one is missing). When HAProxy refuses it, the labels to blame are found by checking the config
 * with subsets of the app's per-port labels (the same group testing the service uses for apps).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_APP_DEFINITION_BYTES, readFileBounded, TooLargeError } from '../boundedRead';
import type { CheckLabelsArgs } from '../cli/args';
import { printable } from '../printable';
import { findConfigDir } from '../configDir';
import { liveConfig } from '../haproxy/configText';
import type { Verdict } from '../haproxy/isolate';
import { validateConfig } from '../haproxy/validate';
import { mapErr } from '../result';
import { describeTarget, detectHaproxyVersion, type HaproxyVersion } from '../haproxy/version';
import { resolveOnce, type Lookup } from '../marathon/hostResolver';
import { resolverFrom } from '../marathon/resolveHosts';
import { parseAppsJson } from '../model/appsJson';
import { fileChecks } from '../model/files';
import { toModel } from '../model/services';
import type { Problem, Service } from '../model/types';
import { ConfigError, renderConfig, type RenderedConfig } from '../render/render';
import { firstStartSettings, modelOptions, renderOptions, withFirstStartChoices } from '../wiring/parts';
import { prepareFirstStart } from '../startup/prepare';
import { blame, withConfigLines } from './blame';
import { appFromDefinition } from './definition';
import { describePorts, groupsOf, legacyNotes } from './ports';
import { unusedTemplateLabels } from './unused';
import { exitCode, fixFor, formatReport, type Finding, type HaproxyCheck, type Report } from './report';
import { jsonErrorMessage } from '../jsonError';
import { fileErrorText } from '../fileErrorText';

type Env = Readonly<Record<string, string | undefined>>;
type Obj = Record<string, unknown>;

export interface CheckIo {
  readonly env: Env;
  readonly readStdin: () => Promise<string>;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** `<bin> -v`; tests inject it. */
  readonly detect?: (bin: string) => HaproxyVersion | undefined;
  /** Told when host-name lookups go on past their bound (--request-timeout): nothing waits for them. */
  readonly lookupsLeft?: () => void;
  /** The system resolver's, unless a test gives a name server that never answers. */
  readonly lookup?: Lookup;
}

const CHECK_TIMEOUT_MS = 20_000;

/** Returns the exit code (0 served, 1 left out / not served, 2 bad input, 3 HAProxy missing). */
export async function runCheckLabels(args: CheckLabelsArgs, io: CheckIo): Promise<number> {
  const fail = (msg: string): number => {
    // One line: HAProxy's alert and the config line it points at (withConfigLines) joined, each made
    // printable (JSON.parse's message quotes the input).
    const lines = msg.split('\n').map((l) => printable(l.trim()));
    io.stderr(`marathon-lb check-labels: ${lines.filter((l) => l !== '').join('; ')}\n`);
    return 2;
  };
  const name = args.appFile === '-' ? 'standard input' : args.appFile;
  let input: unknown;
  try {
    const text =
      args.appFile === '-'
        ? await io.readStdin()
        : readFileBounded(args.appFile, MAX_APP_DEFINITION_BYTES).toString('utf8');
    input = JSON.parse(text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return fail(
      err instanceof SyntaxError
        ? `${name} is not valid JSON: ${jsonErrorMessage(err)}`
        : err instanceof TooLargeError
          ? `${name} is larger than an app definition can be (${MAX_APP_DEFINITION_BYTES / 2 ** 20} MiB)`
          : `cannot read ${name}: ${fileErrorText(err)}`,
    );
  }
  const def = appFromDefinition(input);
  if (!def.ok) return fail(`${name}: ${def.error}`);
  const appId = def.value.app['id'] as string;
  const labels = (def.value.app['labels'] ?? {}) as Readonly<Record<string, unknown>>;
  const groups = args.groupGiven ? args.options.group : groupsOf(labels);

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mlb-check-labels-'));
  try {
    const cfgPath = path.join(tmp, 'haproxy.cfg');
    const quiet = { info: (): void => undefined, warn: (): void => undefined };
    const given = { ...args.options, group: groups, haproxyConfig: cfgPath };
    const firstStart = await prepareFirstStart({
      settings: firstStartSettings(given),
      env: io.env,
      configDir: findConfigDir(),
      logger: quiet,
    });
    if (!firstStart.ok) return fail(firstStart.error);
    const prepared = firstStart.value;
    const o = withFirstStartChoices(given, prepared);
    const detect = io.detect ?? detectHaproxyVersion;
    const renderOpts = renderOptions(o, io.env, detect);
    const modelOpts = modelOptions(o, io.env);

    const unanswered = new Set<string>();
    const evaluate = async (
      app: Obj,
    ): Promise<{ problems: Problem[]; services: readonly Service[]; rendered: RenderedConfig }> => {
      const body = { apps: [app] };
      const { addresses, resolver } = await resolveOnce(
        body,
        o.requestTimeout * 1000,
        () => io.lookupsLeft?.(),
        io.lookup && { lookup: io.lookup },
      );
      // Its label is then judged as naming a host that does not resolve: say why (a slow name server).
      for (const host of resolver.unanswered)
        if (!unanswered.has(host)) {
          unanswered.add(host);
          io.stderr(
            `marathon-lb check-labels: warning: host name ${printable(host)} gave no answer within --request-timeout (${o.requestTimeout} s)\n`,
          );
        }
      const resolve = resolverFrom(addresses);
      const parsed = parseAppsJson(body);
      if (!parsed.ok) throw new Error(parsed.error); // cannot happen: the body is built here
      const model = toModel(parsed.value.apps, modelOpts, { resolve, files: fileChecks() });
      const rendered = renderConfig(model.services, prepared.templates, renderOpts);
      // Each service the renderer leaves out comes with one problem, in order: name its port index.
      const dropped = model.services.filter((s) => !rendered.served.includes(s));
      const renderProblems = rendered.problems.map((p, i) => ({ ...p, dropped: dropped[i] }));
      return {
        problems: [...parsed.value.problems, ...model.problems, ...renderProblems],
        services: model.services,
        rendered,
      };
    };
    let first;
    try {
      first = await evaluate(def.value.app);
    } catch (e) {
      if (e instanceof ConfigError)
        return fail(`the service's own templates or flags cannot render a config (not this app's doing): ${e.message}`);
      throw e;
    }
    const ports = describePorts(def.value.app, first, modelOpts, args.groupGiven);
    const portOf = (p: Problem & { dropped?: Service }): number | null =>
      p.portIndex ??
      (p.dropped === undefined
        ? null
        : (ports.ports.find((x) => x.servicePort === p.dropped!.servicePort)?.index ?? null));
    const problems: Finding[] = first.problems.map((p) => {
      const portIndex = portOf(p);
      const label = p.label !== null && portIndex !== null ? p.label.replace('{n}', String(portIndex)) : p.label;
      return { portIndex, label, message: p.message, fix: fixFor(label, p.message, 'model'), by: 'model' };
    });

    // haproxy -c on what the service would write for this app alone.
    const check = async (rendered: RenderedConfig): Promise<Verdict> => {
      if (o.haproxyMap) {
        await fs.writeFile(path.join(tmp, 'domain2backend.map'), rendered.domainMap);
        await fs.writeFile(path.join(tmp, 'app2backend.map'), rendered.appMap);
      }
      const text = liveConfig(rendered.config, {
        hardStopAfterSeconds: o.hardStopAfter,
        maxOldWorkers: o.maxOldWorkers,
      });
      await fs.writeFile(cfgPath, text);
      const v = await validateConfig(o.haproxyBin, cfgPath, CHECK_TIMEOUT_MS);
      return mapErr(v, (message) => ({ message: withConfigLines(message, cfgPath, text) }));
    };
    let haproxy: HaproxyCheck = 'not needed';
    const served = first.rendered.served;
    if (served.length > 0 && detect(o.haproxyBin) === undefined) haproxy = 'not installed';
    else if (served.length > 0) {
      const verdict = await check(first.rendered);
      haproxy = verdict.ok ? 'accepted' : 'rejected';
      if (!verdict.ok) {
        const empty = await check(renderConfig([], prepared.templates, renderOpts));
        if (!empty.ok)
          return fail(
            `haproxy -c rejects the service's config even without this app (the operator's templates or flags): ${empty.error.message}`,
          );
        const indexOf = (s: Service): number | null =>
          ports.ports.find((p) => p.servicePort === s.servicePort)?.index ?? null;
        problems.push(
          ...(await blame(def.value.app, served, verdict.error.message, evaluate, check, indexOf, (svcs) =>
            renderConfig(svcs, prepared.templates, renderOpts),
          )),
        );
      }
    }
    // A port left out with no problem naming it (e.g. fewer task ports than service ports) still gets a reason.
    for (const p of ports.ports) {
      if (p.status === 'left out' && !problems.some((f) => f.portIndex === p.index || f.portIndex === null)) {
        problems.push({
          portIndex: p.index,
          label: null,
          message: 'no task port for this service port: the app declares fewer host/container ports than service ports',
          fix: null,
          by: 'model',
        });
      }
    }
    // The service leaves out what HAProxy refuses (src/haproxy/rejections.ts).
    const refused = new Set(problems.filter((f) => f.by === 'haproxy').map((f) => f.portIndex));
    const portResults = ports.ports.map((p) =>
      p.status === 'served' && (refused.has(p.index) || refused.has(null))
        ? { index: p.index, servicePort: p.servicePort, status: 'left out' as const, reason: 'rejected by haproxy -c' }
        : p,
    );
    const report: Report = {
      appId,
      groups,
      target: describeTarget(o.haproxyVersion, o.haproxyBin, detect),
      ports: portResults,
      problems,
      haproxy,
      haproxyBin: o.haproxyBin,
      notes: [
        ...def.value.notes,
        ...ports.notes,
        ...legacyNotes(def.value.app, served, renderOpts.translateLegacy),
        ...(await unusedTemplateLabels(def.value.app, first.rendered, evaluate)),
      ],
      ...(ports.notServed === undefined ? {} : { notServed: ports.notServed }),
    };
    io.stdout(
      args.json ? `${JSON.stringify({ ...report, exitCode: exitCode(report) }, null, 2)}\n` : formatReport(report),
    );
    return exitCode(report);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
