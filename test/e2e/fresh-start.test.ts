import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { findConfigDir } from '../../src/configDir';
import { httpGet } from '../../src/demo/live';
import { hasCapSysResource, parseProcLimits } from '../../src/haproxy/limits';
import { Simulator } from '../../src/simulator';
import { SELF_SIGNED_NAME } from '../../src/startup/certificate';
import { describeWithHaproxy } from '../support/haproxy';
import { freePort } from '../support/ports';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';

/**
 * The real CLI started as a new user outside marathon-lb's image would start it: no /marathon-lb
 * (its Lua), no certificate at the --ssl-certs default, and a low open-files limit (soft 1024 under
 * a hard 1024, as CI runners often have, or a hard limit a little higher) — against the simulator,
 * HAProxy must serve the app.
 *
 * Only listen addresses and file locations are moved (so the test binds loopback ports, not :80,
 * and writes nothing to /etc or /var), through a HAPROXY_HEAD override that otherwise keeps
 * marathon-lb's text: `maxconn 50000` and `lua-load /marathon-lb/...` as its users have them.
 * When /etc/ssl/cert.pem exists on this machine, MARATHON_LB_DEFAULT_SSL_CERT points the default
 * elsewhere so that the missing-certificate path still runs; nothing is written to /etc.
 */
/** [soft, hard] open-files limits: a CI runner's 1024:1024, and a desktop's 1024 soft under a higher hard limit. */
const LIMITS: readonly (readonly [number, number])[] = [
  [1024, 1024],
  [1024, 8192],
];
const CONFIG_DIR = findConfigDir();
const BUNDLED_LUA = path.join(CONFIG_DIR, 'lua');
const HOST = 'fresh.example.com';

for (const [SOFT, HARD] of LIMITS)
  describeWithHaproxy(
    `a fresh start outside the image: no /marathon-lb, no certificate, ulimit -Sn ${SOFT} -Hn ${HARD}`,
    (haproxy) => {
      let dir: string;
      let sim: Simulator;
      let child: ChildProcess;
      let output = '';
      let ports: { http: number; https: number; stats: number; appid: number; app: number };
      const etcCertBefore = fs.existsSync('/etc/ssl/cert.pem');
      const luaInImage = fs.existsSync('/marathon-lb/getpids.lua');
      // With CAP_SYS_RESOURCE HAProxy raises its own hard limit: then nothing needs lowering.
      const canRaise = hasCapSysResource(fs.readFileSync('/proc/self/status', 'utf8'));

      /** One start on fresh ports; false when a port was taken meanwhile (test/support/ports.ts: ask again). */
      async function start(): Promise<boolean> {
        dir = tempDir('mlb-fresh-');
        output = '';
        // Five different ports: the OS may hand the same free port out twice while none is bound yet.
        const taken = new Set<number>();
        const distinct = async (): Promise<number> => {
          for (;;) {
            const p = await freePort();
            if (!taken.has(p)) return (taken.add(p), p);
          }
        };
        ports = {
          http: await distinct(),
          https: await distinct(),
          stats: await distinct(),
          appid: await distinct(),
          app: await distinct(),
        };
        const templates = path.join(dir, 'templates');
        fs.mkdirSync(templates);
        fs.mkdirSync(path.join(dir, 'state'));
        const builtinHead = fs.readFileSync(path.join(CONFIG_DIR, 'templates', 'HAPROXY_HEAD.mustache'), 'utf8');
        const head = builtinHead
          .split('{{luaDir}}')
          .join('/marathon-lb') // marathon-lb's own HAPROXY_HEAD text
          .replace('{{globalDefaultOptions}}', '  option            redispatch\n')
          .replace('  log /dev/log local0\n  log /dev/log local1 notice\n', '')
          .replace('stats socket /var/run/haproxy/socket', `stats socket ${path.join(dir, 'haproxy.sock')}`)
          .replace('server-state-base /var/state/haproxy/', `server-state-base ${path.join(dir, 'state')}/`)
          .replace('bind 0.0.0.0:9090', `bind 127.0.0.1:${ports.stats}`);
        expect(head).toContain('maxconn 50000');
        fs.writeFileSync(path.join(templates, 'HAPROXY_HEAD'), head);
        fs.writeFileSync(
          path.join(templates, 'HAPROXY_HTTP_FRONTEND_HEAD'),
          `\nfrontend marathon_http_in\n  bind 127.0.0.1:${ports.http}\n  mode http\n`,
        );
        fs.writeFileSync(
          path.join(templates, 'HAPROXY_HTTP_FRONTEND_APPID_HEAD'),
          `\nfrontend marathon_http_appid_in\n  bind 127.0.0.1:${ports.appid}\n  mode http\n`,
        );
        fs.writeFileSync(
          path.join(templates, 'HAPROXY_HTTPS_FRONTEND_HEAD'),
          `\nfrontend marathon_https_in\n  bind 127.0.0.1:${ports.https} ssl {sslCerts}\n  mode http\n`,
        );

        sim = await Simulator.start({
          serveTasks: true,
          apps: [
            {
              id: '/fresh',
              instances: 2,
              portDefinitions: [{ port: ports.app }],
              labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: HOST, HAPROXY_0_BIND_ADDR: '127.0.0.1' },
            },
          ],
        });
        const args = [
          CLI,
          '--marathon',
          sim.url,
          '--group',
          'external',
          '--sse',
          '--haproxy-bin',
          haproxy.bin,
          '--haproxy-config',
          path.join(dir, 'haproxy.cfg'),
          '--haproxy-master-socket',
          path.join(dir, 'master.sock'),
          '--haproxy-pid-file',
          path.join(dir, 'haproxy.pid'),
          '--templates-dir',
          templates,
          '--syslog-socket',
          '/dev/null',
          '--admin-port',
          '0',
          '--debounce-quiet',
          '0.05',
        ];
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          MARATHON_LB_PID_FILE: path.join(dir, 'marathon-lb.pid'),
        };
        if (etcCertBefore) env.MARATHON_LB_DEFAULT_SSL_CERT = path.join(dir, 'etc-ssl', 'cert.pem');
        // The service and its HAProxy inherit both limits (soft first: it may not exceed the new hard limit).
        child = spawn(
          'sh',
          ['-c', `ulimit -Sn ${SOFT} && ulimit -Hn ${HARD} && exec "$0" "$@"`, process.execPath, ...args],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
        for (let i = 0; i < 300; i++) {
          if (child.exitCode !== null) throw new Error(`marathon-lb exited with ${child.exitCode}:\n${output}`);
          if (/cannot bind socket|is held by another process/.test(output)) return false;
          if ((await httpGet(ports.http, HOST, 1000).catch(() => ({ status: 0 }))).status === 200) return true;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`the app was not served within 30 s:\n${output}`);
      }

      async function stop(): Promise<void> {
        if (process.env.MLB_TEST_LOGS) console.log(output);
        if (child !== undefined && child.exitCode === null) {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
        await sim?.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }

      beforeAll(async () => {
        for (let attempt = 1; !(await start()); attempt++) {
          await stop();
          if (attempt === 3) throw new Error('three starts in a row found a port taken');
        }
      }, 120_000);

      afterAll(stop, 30_000);

      test('the app answers over HTTP through HAProxy, from each task', async () => {
        const tasks = new Set(sim.tasksOf('/fresh').map((t) => t.id));
        const seen = new Set<string>();
        for (let i = 0; i < 40 && seen.size < tasks.size; i++) {
          const r = await httpGet(ports.http, HOST);
          expect(r.status).toBe(200);
          for (const t of tasks) if (r.body.includes(t)) seen.add(t);
        }
        expect(seen).toEqual(tasks);
      });

      test('HTTPS is served with a self-signed certificate made next to --haproxy-config; /etc is not written', async () => {
        const generated = path.join(dir, SELF_SIGNED_NAME);
        expect(fs.statSync(generated).mode & 0o777).toBe(0o600);
        expect(fs.readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8')).toContain(`crt ${generated}`);
        const answer = await new Promise<{ status: number; cn: unknown }>((resolve, reject) => {
          const req = https.get(
            {
              host: '127.0.0.1',
              port: ports.https,
              path: '/',
              headers: { host: HOST },
              rejectUnauthorized: false,
              agent: false,
              timeout: 3000,
            },
            (res) => {
              const cn = (res.socket as TLSSocket).getPeerCertificate().subject?.CN;
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode ?? 0, cn }));
            },
          );
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', reject);
        });
        expect(answer).toEqual({ status: 200, cn: '*' });
        expect(fs.existsSync('/etc/ssl/cert.pem')).toBe(etcCertBefore);
        expect(output).toMatch(
          /no certificate at \S+ \(the --ssl-certs default\): created a self-signed one \(CN=\*\)/,
        );
      });

      test("marathon-lb's Lua runs from the bundled copies (the template's /marathon-lb/ lines rewritten, and logged)", async () => {
        const cfg = fs.readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8');
        if (luaInImage) {
          expect(cfg).toContain('lua-load /marathon-lb/getpids.lua');
        } else {
          expect(cfg).toContain(`lua-load ${BUNDLED_LUA}/getpids.lua`);
          expect(cfg).not.toContain('/marathon-lb/');
          expect(output).toContain('Lua not found where it says, using the bundled copies: /marathon-lb/getpids.lua →');
        }
        const pids = await httpGet(ports.stats, 'x', 3000, '/_haproxy_getpids'); // answered by getpids.lua
        expect(pids.status).toBe(200);
        expect(pids.body.trim()).toMatch(/^\d+( \d+)*$/);
      });

      test('HAProxy runs under the hard limit, with global maxconn lowered to fit it and a warning that says why', () => {
        const master = Number(fs.readFileSync(path.join(dir, 'haproxy.pid'), 'utf8').trim());
        const cfg = fs.readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8');
        const maxconn = Number(/^global\n(?:.*\n)*?\s*maxconn (\d+)/m.exec(cfg)?.[1]);
        if (canRaise) {
          expect(maxconn).toBe(50000);
          return;
        }
        const limits = fs.readFileSync(`/proc/${master}/limits`, 'utf8');
        const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
        expect(parseProcLimits(limits)).toBe(HARD);
        // HAProxy raised its soft limit itself, up to what the lowered maxconn needs (never past the hard limit).
        expect(soft).toBeLessThanOrEqual(HARD);
        if (HARD > SOFT) expect(soft).toBeGreaterThan(2 * maxconn);
        expect(maxconn).toBeGreaterThan(100);
        expect(maxconn).toBeLessThan(HARD / 2);
        expect(output).toContain(
          `HAProxy runs with \`maxconn ${maxconn}\` instead of the template's \`maxconn 50000\``,
        );
        expect(output).toContain(`the hard limit of this process is ${HARD} (\`ulimit -Hn\`)`);
      });
    },
  );
