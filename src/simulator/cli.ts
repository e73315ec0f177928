#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadScenario } from './scenario';
import type { Scenario } from './scenario';
import type { SimulatorOptions } from './simulator';
import { startScenario } from './timeline';
import { MARATHON_HEARTBEAT_MS } from './sse';

/**
 * `marathon-sim --scenario config/scenarios/demo.json --port 8080 --serve-tasks`
 * Prints the base URL as the first stdout line, logs to stderr, runs until SIGINT/SIGTERM.
 */
async function main(argv: string[]): Promise<number> {
  const args = await yargs(argv)
    .scriptName('marathon-sim')
    .usage('$0 [options]: a fake Marathon (REST + SSE + control API under /_sim/)')
    .option('scenario', { type: 'string', describe: 'scenario JSON file (apps + timeline)' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'bind address' })
    .option('port', { type: 'number', default: 8080, describe: 'port (0 = any free port)' })
    .option('serve-tasks', { type: 'boolean', describe: 'run a real HTTP server per task on 127.0.0.1' })
    .option('task-host', { type: 'string', default: '127.0.0.1', describe: 'host written into tasks' })
    .option('basic-auth', { type: 'string', describe: 'require HTTP basic auth user:password' })
    .option('dcos-public-key', {
      type: 'string',
      describe: 'PEM file: enable DC/OS service login verified with this key',
    })
    .option('dcos-uid', { type: 'string', describe: 'only this service account may log in' })
    .option('tls-key', { type: 'string', describe: 'PEM key file: serve HTTPS (with --tls-cert)' })
    .option('tls-cert', { type: 'string', describe: 'PEM certificate file' })
    .option('redirect-to', { type: 'string', describe: 'act as a non-leader: redirect /v2 requests to this base URL' })
    .option('redirect-status', { type: 'number', choices: [302, 307], default: 307 })
    .option('keepalive-ms', {
      type: 'number',
      default: MARATHON_HEARTBEAT_MS,
      describe: "write a heartbeat (CRLF) on event streams every N ms, as Marathon's Jetty does every 10 s (0 = never)",
    })
    .option('apps-latency-per-app-ms', {
      type: 'number',
      default: 0,
      describe: 'GET /v2/apps takes this long per app (0.5 → 5 s at 10 000 apps), its body streamed all along',
    })
    .option('time-scale', {
      type: 'number',
      describe:
        "run Marathon's clock: real seconds per Marathon second (0.01: a 300 s health grace period lasts 3 s); unset = everything at once",
    })
    .option('ready-after-seconds', {
      type: 'number',
      describe:
        'with --time-scale: Marathon seconds from healthy to ready for apps with readinessChecks (default: their intervalSeconds)',
    })
    .option('seed', { type: 'string', describe: 'fixed random part of task ids' })
    .option('timeline', {
      type: 'boolean',
      default: true,
      describe: 'play the scenario timeline (--no-timeline to skip)',
    })
    .strict()
    .help()
    .parseAsync();

  if ((args.tlsKey === undefined) !== (args.tlsCert === undefined))
    throw new Error('--tls-key and --tls-cert go together');
  let scenario: Scenario = { name: 'empty', apps: [], timeline: [] };
  if (args.scenario !== undefined) {
    const loaded = loadScenario(args.scenario);
    if (!loaded.ok) throw new Error(loaded.error);
    scenario = args.timeline ? loaded.value : { ...loaded.value, timeline: [] };
  }
  const options: SimulatorOptions = {
    host: args.host,
    port: args.port,
    serveTasks: args.serveTasks,
    taskHost: args.taskHost,
    keepAliveMs: args.keepaliveMs,
    appsLatencyPerAppMs: args.appsLatencyPerAppMs,
    ...(args.timeScale !== undefined ? { timeScale: args.timeScale } : {}),
    ...(args.readyAfterSeconds !== undefined ? { readyAfterSeconds: args.readyAfterSeconds } : {}),
    ...(args.seed !== undefined ? { seed: args.seed } : {}),
    auth: {
      ...(args.basicAuth !== undefined ? { basic: args.basicAuth } : {}),
      ...(args.dcosPublicKey !== undefined
        ? { dcos: { publicKey: read(args.dcosPublicKey, '--dcos-public-key'), uid: args.dcosUid } }
        : {}),
    },
    ...(args.tlsKey !== undefined && args.tlsCert !== undefined
      ? { tls: { key: read(args.tlsKey, '--tls-key'), cert: read(args.tlsCert, '--tls-cert') } }
      : {}),
    ...(args.redirectTo !== undefined
      ? { leader: { redirectTo: args.redirectTo, status: args.redirectStatus as 302 | 307 } }
      : {}),
  };
  const log = (line: string): void => void process.stderr.write(`marathon-sim: ${line}\n`);
  const sim = await startScenario(scenario, options, log);
  process.stdout.write(`${sim.url}\n`);
  const apps = sim.snapshot().apps;
  log(
    `scenario "${scenario.name}": ${apps.length} app(s), ${apps.reduce((n, a) => n + a.tasks.length, 0)} task(s)` +
      `${sim.serving > 0 ? `, ${sim.serving} served on ${options.taskHost}` : ''}; control API at ${sim.url}/_sim/state`,
  );
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      log(`${signal}: shutting down`);
      sim.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

function read(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(
      `${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { cause: err },
    );
  }
}

main(hideBin(process.argv)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`marathon-sim: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
