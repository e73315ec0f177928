/**
 * The start sequence every entry shares: options (parsed from flags, or given) → templates → start.
 * main.ts (the service), the demo (demo/cli.ts, demo/live.ts) and the test harness (test/support)
 * call it; what differs between them is only the logger, how templates are prepared and what starts.
 */
import { parseArgs } from '../cli/args';
import type { Options } from '../cli/options';
import { findConfigDir } from '../configDir';
import { createController, type ControllerDeps } from '../controller';
import type { Logger } from '../log';
import { loadTemplateSet } from '../render/loadTemplates';
import type { TemplateSet } from '../render/templates';
import { andThen, err, map, ok, type Result } from '../result';
import { startService, type RunningService } from '../service';
import { prepareFirstStart } from '../startup/prepare';
import { marathonClientFromOptions, serviceParts } from './marathonClient';
import { controllerSettings, firstStartSettings, withFirstStartChoices } from './parts';

type Env = Readonly<Record<string, string | undefined>>;

export interface BootstrapInput {
  /** Flags to parse (with `env`; --help counts as an error carrying the help text), or options already parsed. */
  readonly from: { readonly argv: readonly string[] } | { readonly options: Options };
  readonly env: Env;
  /** config/ of this installation (default: the one above this file). */
  readonly configDir?: string;
  /** Made once the options are known (--log-level, --log-format, --syslog-socket). */
  readonly logger: (options: Options) => Logger;
  /**
   * Outside marathon-lb's image: bundled Lua, a self-signed certificate and a maxconn the fd limit
   * allows, each logged (startup/prepare.ts). Otherwise the built-in templates and the overrides only.
   */
  readonly firstStart?: boolean;
}

/** What every start needs: the options (as first-start preparation adjusted them), templates, logger. */
export interface Prepared {
  readonly options: Options;
  readonly env: Env;
  readonly templates: TemplateSet;
  readonly logger: Logger;
}

function options(from: BootstrapInput['from'], env: Env): Result<Options> {
  if ('options' in from) return ok(from.options);
  const parsed = parseArgs(from.argv, env);
  return parsed.ok ? parsed : err(parsed.error.kind === 'error' ? parsed.error.message : parsed.error.text);
}

/** Flags → options → the built-in templates and the overrides (synchronous: for in-process harnesses). */
export function configure(input: BootstrapInput): Result<Prepared> {
  return andThen(options(input.from, input.env), (o) => {
    const templates = loadTemplateSet(input.configDir ?? findConfigDir(), input.env, o.templatesDir);
    return map(templates, (t) => ({ options: o, env: input.env, templates: t, logger: input.logger(o) }));
  });
}

/** configure, or with `firstStart` the preparation for a start outside marathon-lb's image. */
async function prepare(input: BootstrapInput): Promise<Result<Prepared>> {
  if (input.firstStart !== true) return configure(input);
  const parsed = options(input.from, input.env);
  if (!parsed.ok) return parsed;
  const logger = input.logger(parsed.value);
  const first = await prepareFirstStart({
    settings: firstStartSettings(parsed.value),
    env: input.env,
    configDir: input.configDir ?? findConfigDir(),
    logger,
  });
  return map(first, (p) => ({
    options: withFirstStartChoices(parsed.value, p),
    templates: p.templates,
    env: input.env,
    logger,
  }));
}

/** Flags → options → templates → `start` (serviceStart for the live service). */
export async function bootstrap<T>(
  input: BootstrapInput,
  start: (p: Prepared) => Promise<Result<T>> | Result<T>,
): Promise<Result<T>> {
  const prepared = await prepare(input);
  return prepared.ok ? start(prepared.value) : prepared;
}

/** bootstrap's `start` for the live service (main, the demo). */
export function serviceStart(extra: {
  readonly processSignals: boolean;
  readonly pidFile?: string;
}): (p: Prepared) => Promise<Result<RunningService>> {
  return async (p) => {
    const parts = serviceParts(p.options, p.env, p.logger, extra.pidFile);
    if (!parts.ok) return parts;
    return startService({
      parts: parts.value,
      templates: p.templates,
      logger: p.logger,
      processSignals: extra.processSignals,
    });
  };
}

/** The controller without the service around it (test harness, benchmarks): Marathon client and all from the prepared options. */
export function controllerStart(
  p: Prepared,
  rest: Omit<ControllerDeps, 'settings' | 'client' | 'templates' | 'logger'>,
): Result<ReturnType<typeof createController>> {
  const client = marathonClientFromOptions(p.options, p.logger);
  if (!client.ok) return client;
  return ok(
    createController({
      ...rest,
      settings: controllerSettings(p.options, p.env),
      client: client.value,
      templates: p.templates,
      logger: p.logger,
    }),
  );
}
