import * as fs from 'node:fs';
import * as path from 'node:path';
import { readStreamBounded, TooLargeError } from './boundedRead';
import { findConfigDir } from './configDir';
import { exitOnceWritten } from './exitOnceWritten';
import { fileErrorText } from './fileErrorText';
import { cannotRead, parseAppsBytes, readAppsFile, unpacked } from './marathon/appsFile';
import { MAX_BODY_BYTES } from './marathon/bodySink';
import { resolveOnce, type Lookup } from './marathon/hostResolver';
import { resolverFrom } from './marathon/resolveHosts';
import { routedBody } from './marathon/routedFields';
import { fileChecks } from './model/files';
import { describeProblem } from './model/types';
import { allowOptimizingCompiler, OPTIMIZE_FROM_BYTES } from './optimizingCompiler';
import { printable } from './printable';
import { err, type Result } from './result';
import { loadTemplateSet } from './render/loadTemplates';
import { renderSnapshot } from './render/snapshot';
import { keepYoungGenerationSmall } from './youngGeneration';
import type { DrySettings } from './wiring/parts';

/**
 * The `--dry` process entry (bin/marathon-lb.ts and main.ts). The settings load the logger (winston)
 * only when they must fetch (no --apps-file), so a dry render from a file loads no rxjs, winston,
 * prom-client or service code.
 */
export function runDryProcess(
  settings: DrySettings,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  // main.ts comes here too (bin/marathon-lb.ts holds it from its start).
  keepYoungGenerationSmall();
  let lookupsLeft = false;
  const code = runDry(settings, {
    env,
    lookupsLeft: () => (lookupsLeft = true),
    inputSize: (bytes) => {
      if (bytes !== undefined && bytes < OPTIMIZE_FROM_BYTES) return;
      // `haproxy -v` is not asked here ahead of need, even for a big input: started beside the reading
      // it took longer on two cores than asked after the render, version-dependent inputs included.
      allowOptimizingCompiler();
    },
    readStdin: () => readStreamBounded(process.stdin, 'standard input', MAX_BODY_BYTES),
    // In 1 MiB slices: stdout to a file or pipe is written synchronously on Linux, so each slice's
    // bytes go before the next is encoded (not the whole 3 MB config as one more Buffer at the peak).
    stdout: (s) => {
      for (let i = 0; i < s.length; i += 1 << 20) process.stdout.write(s.slice(i, i + (1 << 20)));
    },
    stderr: (s) => process.stderr.write(s),
  });
  // The queued lookups kept the process alive (400 names of a slow name server: 35 s with
  // --request-timeout 1). Exiting drops them; those running (libuv runs two at a time) still end
  // first, within the system resolver's own timeout (resolv.conf).
  return code.then((c) => (lookupsLeft ? exitOnceWritten(c) : c));
}

/**
 * Input smaller than this is parsed whole by JSON.parse: there the optimizing compiler is held back
 * (optimizingCompiler.ts), and the app reader's JS, run unoptimized, is slower than V8's own parser
 * (340 apps, 0.9 MB: 0.23 s → 0.19 s for the whole --dry, 1 MB more at the peak). From this size on,
 * reading app by app takes as long and keeps the peak lower (1 000 apps: 7 MB lower).
 */
const WHOLE_PARSE_BELOW_BYTES = OPTIMIZE_FROM_BYTES;

export interface DryIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readStdin: () => Promise<Buffer>;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** Told the input's size in bytes before it is parsed (undefined: not known, fetched from Marathon). */
  readonly inputSize?: (bytes: number | undefined) => void;
  /** Told when host-name lookups go on past their bound: nothing waits for them once the output is written. */
  readonly lookupsLeft?: () => void;
  /** The system resolver's, unless a test gives a name server that never answers. */
  readonly lookup?: Lookup;
}

/**
 * `marathon-lb --dry`: prints the config marathon-lb would write, writes maps with --haproxy-map
 * and empties existing ones without it (as marathon-lb). Returns the exit code.
 */
export async function runDry(settings: DrySettings, io: DryIo): Promise<number> {
  const fail = (msg: string): number => {
    io.stderr(`marathon-lb: ${printable(msg)}\n`); // JSON.parse's message quotes the input
    return 2;
  };
  let body: unknown;
  if (settings.appsFile !== undefined) {
    const file = settings.appsFile;
    let read: Result<unknown>;
    if (file === '-') {
      read = await io.readStdin().then(
        (packed) => {
          const bytes = unpacked('standard input', packed);
          if (!bytes.ok) return bytes;
          io.inputSize?.(bytes.value.length);
          return parseAppsBytes('standard input', bytes.value, WHOLE_PARSE_BELOW_BYTES);
        },
        (e: unknown) =>
          e instanceof TooLargeError ? err(`${e.message}, the bound of an apps body`) : cannotRead('standard input', e),
      );
    } else {
      read = readAppsFile(file, {
        inputSize: (bytes) => io.inputSize?.(bytes),
        wholeBelowBytes: WHOLE_PARSE_BELOW_BYTES,
      });
    }
    if (!read.ok) return fail(read.error);
    body = read.value;
  } else {
    io.inputSize?.(undefined);
    try {
      body = routedBody(await settings.fetchApps());
    } catch (e) {
      return fail(`cannot fetch apps from Marathon: ${(e as Error).message}`);
    }
  }

  const templates = loadTemplateSet(findConfigDir(), io.env, settings.templatesDir);
  if (!templates.ok) return fail(templates.error);
  const lookupSeconds = settings.hostLookupMs / 1000;
  const { addresses, resolver } = await resolveOnce(
    body,
    settings.hostLookupMs,
    () => io.lookupsLeft?.(),
    io.lookup && { lookup: io.lookup },
  );
  const taskHosts = resolver.unresolvedTaskHosts(body, addresses);
  const late = ` (no answer within --request-timeout, ${lookupSeconds} s)`;
  for (const host of taskHosts)
    io.stderr(
      `marathon-lb: warning: cannot resolve task host ${printable(host)} to an IPv4 address${resolver.unanswered.has(host) ? late : ''}: its tasks are left out\n`,
    );
  // A label's name not answered in time is refused as not resolving: say why.
  const named = new Set(taskHosts);
  for (const name of resolver.unanswered)
    if (!named.has(name))
      io.stderr(
        `marathon-lb: warning: host name ${printable(name)} in a label gave no answer within --request-timeout (${lookupSeconds} s): what names it is refused as not resolving\n`,
      );
  const resolve = resolverFrom(addresses);
  const ctx = { resolve, files: fileChecks() };
  // Rendered for HAProxy 2.1+ first; the HAProxy installed is asked only when that matters: a config
  // without a directive 2.1 removed is the same for every version (no `haproxy -v` for most apps).
  let dependsOnVersion = false;
  let snapshot = renderSnapshot(
    body,
    templates.value,
    { model: settings.model, render: settings.render },
    { ...ctx, dependsOnVersion: () => (dependsOnVersion = true) },
  );
  if (dependsOnVersion && settings.installedRender !== undefined) {
    const installed = await settings.installedRender();
    // HAProxy 2.0 (or older): marathon-lb's text as it is, rendered again.
    if (installed.translateLegacy !== settings.render.translateLegacy)
      snapshot = renderSnapshot(body, templates.value, { model: settings.model, render: installed }, ctx);
  }
  if (!snapshot.ok) return fail(`${settings.appsFile ?? 'Marathon apps'}: ${snapshot.error}`);
  for (const p of snapshot.value.problems) io.stderr(`marathon-lb: warning: left out ${describeProblem(p)}\n`);

  // Map files, only once the config rendered. marathon-lb's --dry writes no map content (its
  // compareWriteAndReloadConfig prints and exits before); contract 2 of DESIGN.md keeps writing
  // them with --haproxy-map. Without --haproxy-map, marathon-lb empties existing ones first
  // (truncateMapFileIfExists, --dry or not), and so does this.
  const dir = settings.mapDir;
  try {
    if (settings.haproxyMap) {
      writeTogether([
        [path.join(dir, 'domain2backend.map'), snapshot.value.rendered.domainMap],
        [path.join(dir, 'app2backend.map'), snapshot.value.rendered.appMap],
      ]);
    } else {
      for (const map of ['domain2backend.map', 'app2backend.map']) truncateIfExists(path.join(dir, map));
    }
  } catch (e) {
    return fail(`cannot write map files into ${dir}: ${fileErrorText(e)}`);
  }
  // upstream print()s the config, adding a newline (written apart: no 3 MB copy to append it).
  io.stdout(snapshot.value.rendered.config);
  io.stdout('\n');
  return 0;
}

/** marathon-lb's truncateMapFileIfExists: a regular file at that path is emptied, nothing else happens. */
function truncateIfExists(file: string): void {
  let regular: boolean;
  try {
    regular = fs.statSync(file).isFile();
  } catch {
    regular = false; // absent: nothing to empty
  }
  if (regular) fs.truncateSync(file, 0);
}

/**
 * Writes each file to a temp file beside it, then renames them all: readers never see half a file,
 * and a failed write (a full disk) leaves every target as it was, not one map new beside an old one.
 */
function writeTogether(files: readonly (readonly [string, string])[]): void {
  const temps: string[] = [];
  try {
    for (const [file, content] of files) {
      const tmp = `${file}.tmp-${process.pid}`;
      fs.rmSync(tmp, { force: true }); // a leftover of an earlier run with this pid; 'wx' follows no link
      temps.push(tmp);
      fs.writeFileSync(tmp, content, { mode: 0o644, flag: 'wx' });
    }
    for (let i = 0; i < files.length; i++) fs.renameSync(temps[i]!, files[i]![0]);
  } catch (e) {
    for (const tmp of temps) fs.rmSync(tmp, { force: true });
    throw e;
  }
}
