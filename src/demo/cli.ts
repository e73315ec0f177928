/**
 * npm run demo [-- --duration SECONDS] [--scenario FILE] [marathon-lb flags]
 * The whole product on one machine: the Marathon simulator (with real tiny HTTP servers as tasks),
 * the controller, and a real HAProxy on unprivileged loopback ports. Prints what to curl, then a
 * line every 2 s showing which task answered through HAProxy and how HAProxy was updated.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { findConfigDir } from '../configDir';
import { createLogger } from '../log';
import { loadScenario, startScenario, type Scenario } from '../simulator';
import { bootstrap, serviceStart } from '../wiring/bootstrap';
import { busyListeners, scenarioServicePorts } from './busyPorts';
import { DEFAULT_DEMO_PORTS, prepareDemoFiles, type DemoPorts } from './setup';

function take(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i < 0 ? undefined : argv.splice(i, 2)[1];
}

/** The longest a Node.js timer waits (about 24.8 days). */
const MAX_DURATION_S = 2_147_483;

function get(port: number, host: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${body.trim().split('\n')[0] ?? ''}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(`no answer (${e.message})`));
  });
}

const USAGE = `usage: npm run demo -- [--duration SECONDS] [--scenario FILE] [marathon-lb flags]

Runs the Marathon simulator (tiny HTTP servers as tasks), the controller and a real HAProxy on
127.0.0.1, prints what to curl, then a line every 2 s until Ctrl-C.
  --duration SECONDS  stop by itself after that many seconds (default: run until Ctrl-C)
  --scenario FILE     the simulator's scenario (default: config/scenarios/demo.json)
Other flags go to the controller (marathon-lb --help lists them).
`;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const durationText = take(argv, '--duration');
  const duration = durationText === undefined ? 0 : Number(durationText);
  if (durationText !== undefined && !(Number.isFinite(duration) && duration > 0 && duration <= MAX_DURATION_S)) {
    process.stderr.write(
      `demo: --duration must be a number of seconds above 0, at most ${MAX_DURATION_S}, not ${JSON.stringify(durationText)}\n`,
    );
    return 2;
  }
  const configDir = findConfigDir();
  const scenarioFile = take(argv, '--scenario') ?? path.join(configDir, 'scenarios', 'demo.json');
  const scenario = loadScenario(scenarioFile);
  if (!scenario.ok) {
    process.stderr.write(`demo: ${scenario.error}\n`);
    return 2;
  }
  const ports = DEFAULT_DEMO_PORTS;
  // HAProxy binds these (its fixed listeners on loopback, the apps' service ports on all addresses):
  // one held by another program would have it refused and retried forever, the demo showing nothing.
  const busy = await busyListeners([
    ...[ports.http, ports.https, ports.stats, ports.appid].map((port) => ({ host: '127.0.0.1', port })),
    ...scenarioServicePorts(scenario.value.apps).map((port) => ({ host: '0.0.0.0', port })),
  ]);
  if (busy.length > 0) {
    const where = busy.map((l) => `${l.host}:${l.port}`).join(', ');
    process.stderr.write(
      `demo: ${where} ${busy.length === 1 ? 'is' : 'are'} in use by another program (another demo?): the demo's HAProxy listens there. Stop it and run the demo again.\n`,
    );
    return 2;
  }
  // Its reader gone (`npm run demo | head`): stopped as by Ctrl-C, so its HAProxy and files go too.
  const outputClosed = new Promise<string>((resolve) =>
    process.stdout.on('error', () => resolve('standard output closed')),
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marathon-lb-demo-'));
  try {
    return await runDemo(dir, configDir, scenario.value, ports, { duration, outputClosed }, argv);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function runDemo(
  dir: string,
  configDir: string,
  scenario: Scenario,
  ports: DemoPorts,
  until: { readonly duration: number; readonly outputClosed: Promise<string> },
  argv: readonly string[],
): Promise<number> {
  const { duration, outputClosed } = until;
  const files = prepareDemoFiles(dir, configDir, ports);
  const sim = await startScenario(scenario, { port: 0, serveTasks: true }, (line) =>
    process.stdout.write(`[simulator] ${line}\n`),
  );
  const started = await bootstrap(
    {
      from: {
        argv: [
          '-m',
          sim.url,
          '--sse',
          '--group',
          'external',
          '--health-check',
          '--debounce-quiet',
          '0.2',
          '--log-level',
          'INFO',
          '--admin-port',
          '19191',
          ...files.flags,
          ...argv,
        ],
      },
      env: process.env,
      configDir,
      logger: (o) => createLogger({ level: o.logLevel, format: o.logFormat }),
    },
    serviceStart({ processSignals: true, pidFile: path.join(dir, 'marathon-lb.pid') }),
  );
  if (!started.ok) {
    process.stderr.write(`demo: ${started.error}\n`);
    await sim.close();
    return 2;
  }
  const service = started.value;

  const vhost = 'mywebservernew.example.com';
  process.stdout.write(
    [
      '',
      `marathon-lb demo — simulator at ${sim.url}, HAProxy config in ${dir}`,
      `  curl -H 'Host: ${vhost}' http://127.0.0.1:${ports.http}/      # vhost routing on the :80 frontend`,
      `  curl -k --resolve ${vhost}:${ports.https}:127.0.0.1 https://${vhost}:${ports.https}/`,
      "  curl http://127.0.0.1:10004/                                        # the app's service port",
      `  http://127.0.0.1:${ports.stats}/haproxy?stats   HAProxy stats`,
      `  ${service.admin?.url ?? ''}/   controller dashboard, /metrics, /status`,
      `  curl -X POST ${sim.url}/_sim/apps/mywebservernew/scale -d '{"instances":5}'   # scale it yourself`,
      '',
    ].join('\n') + '\n',
  );

  const ticker = setInterval(() => {
    void (async () => {
      const answer = await get(ports.http, vhost);
      const st = service.status.status();
      const web = st.services.find((s) => s.backend === 'mywebservernew_10004');
      const reloads = st.recentApplies.filter((a) => a.reloaded).length;
      const runtime = st.recentApplies.length - reloads;
      process.stdout.write(
        `[demo] ${vhost}: ${web?.servers.length ?? 0} server(s) in HAProxy | curl → ${answer} | applies: ${reloads} reload(s), ${runtime} via runtime API\n`,
      );
    })();
  }, 2000);

  let deadline: NodeJS.Timeout | undefined;
  const stop = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    void outputClosed.then(resolve);
    if (duration > 0) deadline = setTimeout(() => resolve(`--duration ${duration}s elapsed`), duration * 1000);
  });
  clearTimeout(deadline); // stopped by a signal: the --duration timer would keep the process alive to its end
  process.stdout.write(`[demo] ${stop}: stopping\n`);
  clearInterval(ticker);
  await service.stop();
  await sim.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
