/**
 * Where marathon-lb's options become the settings of its parts: the model, the renderer, the
 * controller, the HAProxy side and the admin API; the Marathon client's (and the service's, which
 * include it) are in marathonClient.ts, loaded only where apps are fetched. Parts take plain settings
 * (never Options); the service, --dry, check-labels, the demo and the test harness get theirs here.
 */
import { loadedFileVerdict } from '../model/files';
import { readFlagFile } from '../flagFile';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Options } from '../cli/options';
import { parseBasicCredentials } from '../marathon/credentials';
import type { ConfigFilesOptions } from '../haproxy/configFiles';
import type { HaproxyProcessOptions } from '../haproxy/process';
import type { RetryPolicy } from '../haproxy/target';
import {
  detectHaproxyVersion,
  detectHaproxyVersionSoon,
  removedLegacyDirectives,
  resolveHaproxyVersion,
  type HaproxyVersion,
} from '../haproxy/version';
import type { ModelOptions } from '../model/services';
import { ownAddresses } from '../model/templateLabels';
import type { RenderOptions } from '../render/render';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * --ssl-certs as a list: comma-separated as in marathon-lb, whitespace too, as for every list given by
 * env (MLB_SSL_CERTS="/a.pem /b.pem" made `crt /a.pem /b.pem`, which HAProxy refuses). HAProxy reads no
 * unquoted path with a blank anyway.
 */
const sslCertList = (o: Options): string[] => {
  const certs = (o.sslCerts ?? '').split(/[\s,]+/).filter((c) => c !== '');
  return certs.length > 0 ? certs : ['/etc/ssl/cert.pem'];
};

export function modelOptions(o: Options, env: Env): ModelOptions {
  const range =
    o.minServPortIpPerTask && o.maxServPortIpPerTask
      ? { min: o.minServPortIpPerTask, max: o.maxServPortIpPerTask }
      : null;
  return {
    groups: o.group,
    strictMode: o.strictMode,
    healthCheck: o.healthCheck,
    servicePortRange: range,
    frameworkName: env['FRAMEWORK_NAME'],
    refuseAppTemplates: o.refuseAppTemplates,
    operatorCerts: sslCertList(o),
    respectReadinessChecks: o.respectReadinessChecks,
    ownAddresses: ownAddresses(interfaceAddresses()),
  };
}

/** This host's addresses, every interface's (the load balancer's own, for the template label checks). */
function interfaceAddresses(): string[] {
  try {
    return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  } catch {
    return []; // no interfaces readable (a sandbox): the loopback is still refused
  }
}

/** `detect` asks --haproxy-bin its version when --haproxy-version is not given (once per binary). */
export function renderOptions(
  o: Options,
  env: Env,
  detect: (bin: string) => HaproxyVersion | undefined = detectHaproxyVersion,
): RenderOptions {
  return {
    bindHttpHttps: !o.dontBindHttpHttps,
    sslCerts: sslCertList(o),
    haproxyMap: o.haproxyMap,
    groupHttpsByVhost: o.groupHttpsByVhost,
    haproxyDir: path.dirname(o.haproxyConfig),
    globalDefaultOptions: env['HAPROXY_GLOBAL_DEFAULT_OPTIONS'] ?? 'redispatch,http-server-close,dontlognull',
    luaDir: o.luaDir,
    translateLegacy: removedLegacyDirectives(resolveHaproxyVersion(o.haproxyVersion, o.haproxyBin, detect)),
    loadedFile: loadedFileVerdict,
    ownAddresses: ownAddresses(interfaceAddresses()),
  };
}

/** What the first start outside marathon-lb's image (startup/prepare.ts) reads from the flags. */
export interface FirstStartSettings {
  /** --lua-dir: where lua-load lines point (the bundled copies replace it when it has no Lua). */
  readonly luaDir: string;
  /** --templates-dir: where template overrides are read from. */
  readonly templatesDir: string;
  /** This service starts HAProxy (no --haproxy-attach, no --command): maxconn must fit its fd limit. */
  readonly ownHaproxy: boolean;
  /** --ssl-certs as given. */
  readonly sslCerts: string;
  /** The https frontend needs a certificate (not with --dont-bind-http-https); it is made beside --haproxy-config. */
  readonly certificate: { readonly haproxyConfig: string } | null;
}

export function firstStartSettings(o: Options): FirstStartSettings {
  return {
    luaDir: o.luaDir,
    templatesDir: o.templatesDir,
    ownHaproxy: !o.haproxyAttach && o.command === undefined,
    sslCerts: o.sslCerts,
    certificate: o.dontBindHttpHttps ? null : { haproxyConfig: o.haproxyConfig },
  };
}

/** The options as the first start's choices left them: the Lua dir and the certificates actually used. */
export function withFirstStartChoices(
  o: Options,
  chosen: { readonly luaDir: string; readonly sslCerts: string },
): Options {
  return Object.freeze({ ...o, luaDir: chosen.luaDir, sslCerts: chosen.sslCerts });
}

/** What `--dry` (dry.ts) reads from the flags. */
export interface DrySettings {
  /** --apps-file ('-': standard input); undefined: the apps come from Marathon. */
  readonly appsFile: string | undefined;
  /** --templates-dir: where template overrides are read from. */
  readonly templatesDir: string;
  readonly model: ModelOptions;
  /**
   * For the HAProxy --haproxy-version names; without it, for 2.1 and newer (as when --haproxy-bin
   * cannot say): the config is the same for every version unless it prints a directive 2.1 removed.
   */
  readonly render: RenderOptions;
  /**
   * Without --haproxy-version: the options for the HAProxy --haproxy-bin is, asked once (`haproxy -v`,
   * run beside the caller's work). dry.ts asks only when the config depends on the version.
   */
  readonly installedRender: (() => Promise<RenderOptions>) | undefined;
  /** Where the map files are (beside --haproxy-config). */
  readonly mapDir: string;
  /** --haproxy-map: write the maps; without it, existing ones are emptied (as marathon-lb). */
  readonly haproxyMap: boolean;
  /** /v2/apps from Marathon. The logger and client load on first use: a render from a file loads neither. */
  readonly fetchApps: () => Promise<unknown>;
  /** --request-timeout: how long task-host names are looked up (label names: less; hostResolver.ts). */
  readonly hostLookupMs: number;
}

export function drySettings(o: Options, env: Env): DrySettings {
  return {
    appsFile: o.appsFile,
    templatesDir: o.templatesDir,
    model: modelOptions(o, env),
    render: renderOptions(o, env, () => undefined),
    installedRender:
      o.haproxyVersion === undefined
        ? () => detectHaproxyVersionSoon(o.haproxyBin).then((v) => renderOptions(o, env, () => v))
        : undefined,
    mapDir: path.dirname(o.haproxyConfig),
    haproxyMap: o.haproxyMap,
    hostLookupMs: o.requestTimeout * 1000,
    fetchApps: async () => {
      const [{ createLogger }, { marathonClientFromOptions }] = await Promise.all([
        import('../log'),
        import('./marathonClient'),
      ]);
      const logger = createLogger({ level: o.logLevel, format: o.logFormat, syslogSocket: undefined });
      const client = marathonClientFromOptions(o, logger);
      return client.ok
        ? client.value.getApps({ readiness: o.respectReadinessChecks })
        : Promise.reject(new Error(client.error));
    },
  };
}

/** What the controller (controller.ts) reads from the flags. */
export interface ControllerSettings {
  readonly model: ModelOptions;
  readonly render: RenderOptions;
  /** --sse: follow the event stream within these bounds; null: snapshots on resync and signals only. */
  readonly stream: {
    readonly maxEventBytes: number;
    readonly idleTimeoutSeconds: number;
    readonly idleTimeoutMs: number;
    readonly maxBackoffMs: number;
  } | null;
  /** --lru-cache-capacity: the health memory's and the task-host cache's bound. */
  readonly cacheCapacity: number;
  /** --request-timeout, also the bound on task-host name lookups. */
  readonly requestTimeoutMs: number;
  /** --fast-path, which needs --sse (events are what it applies) and HAProxy's runtime API (not in --command mode). */
  readonly fastPath: boolean;
  /** --command: HAProxy has no runtime API in this mode (how applies are logged). */
  readonly commandMode: boolean;
  /** --command without --sse: the process exits after its one pass, so a failure is not retried (how it is logged). */
  readonly onePass: boolean;
  readonly timing: {
    readonly quietMs: number;
    readonly maxWaitMs: number;
    /** --resync-interval 0: the longest timer there is. */
    readonly resyncIntervalMs: number;
    readonly maxBackoffMs: number;
  };
}

export function controllerSettings(o: Options, env: Env): ControllerSettings {
  return {
    model: modelOptions(o, env),
    render: renderOptions(o, env),
    stream: o.sse
      ? {
          maxEventBytes: o.sseMaxEventBytes,
          idleTimeoutSeconds: o.sseIdleTimeout,
          idleTimeoutMs: o.sseIdleTimeout * 1000,
          maxBackoffMs: o.maxBackoff * 1000,
        }
      : null,
    cacheCapacity: o.lruCacheCapacity,
    requestTimeoutMs: o.requestTimeout * 1000,
    fastPath: o.fastPath && o.sse && o.command === undefined,
    commandMode: o.command !== undefined,
    onePass: isOnePass(o),
    timing: {
      quietMs: o.debounceQuiet * 1000,
      maxWaitMs: o.debounceMaxWait * 1000,
      resyncIntervalMs: o.resyncInterval > 0 ? o.resyncInterval * 1000 : 2 ** 31 - 1,
      maxBackoffMs: o.maxBackoff * 1000,
    },
  };
}

/** --command without --sse: marathon-lb's one pass, then exit. */
const isOnePass = (o: Options): boolean => o.command !== undefined && !o.sse;

/** What the service (service.ts) builds its HAProxy side and admin API from. */
export interface ServiceSettings {
  /** Where HAProxy's Lua finds the pid to signal for /_mlb_signal/*. */
  readonly pidFile: string;
  /** Values kept out of HAProxy's environment (app owners write part of its config, which expands ${VAR}). */
  readonly secrets: readonly (string | undefined)[];
  readonly process: Pick<
    HaproxyProcessOptions,
    'bin' | 'configPath' | 'masterSocketPath' | 'pidFile' | 'oldWorkersWarnAt'
  > &
    Required<Pick<HaproxyProcessOptions, 'stopWaitsMs'>>;
  /** --command: the operator's command reloads an HAProxy this service never starts. */
  readonly command: string | undefined;
  /** --haproxy-attach */
  readonly attach: boolean;
  /** On stop, HAProxy keeps serving (--haproxy-attach, --leave-haproxy-running, --command). */
  readonly leaveRunning: boolean;
  /** --leave-haproxy-running without --haproxy-attach: this service's HAProxy is handed to the next controller. */
  readonly handOver: boolean;
  /** --haproxy-version as given (undefined: ask the binary). */
  readonly haproxyVersion: string | undefined;
  readonly files: Omit<ConfigFilesOptions, 'validate' | 'logger'>;
  /** False with --skip-validation. */
  readonly validate: boolean;
  /** False with --skip-config-cleanup: a rejected config is not retried without the apps HAProxy refused. */
  readonly cleanup: boolean;
  readonly retry: RetryPolicy;
  /** Between reads of HAProxy's `show stat`; 0: never (also in --command mode). */
  readonly statsIntervalMs: number;
  /** One pass, then exit (--command without --sse, as marathon-lb). */
  readonly onePass: boolean;
  readonly marathonState: { readonly eventStream: boolean; readonly staleAfterMs: number };
  readonly status: { readonly maxApplyAgeMs: number; readonly healthCheck: boolean };
  /** null: --admin-port 0. */
  readonly admin: { readonly bind: string; readonly port: number; readonly token: string | undefined } | null;
}

export function serviceSettings(o: Options, env: Env, pidFile?: string): ServiceSettings {
  // HAProxy's stop (and a leftover's) fits in the shutdown bound: a reload under way ≤ soft, then soft, term, kill ≈ 0.85 of it.
  const budgetMs = o.shutdownTimeout * 1000;
  const external = o.command !== undefined;
  return {
    pidFile: pidFile ?? env['MARATHON_LB_PID_FILE'] ?? '/var/run/marathon-lb.pid',
    secrets: heldSecrets(o),
    process: {
      bin: o.haproxyBin,
      configPath: o.haproxyConfig,
      // HAProxy's -S takes an address: a relative path there was "missing port specification".
      masterSocketPath: path.resolve(o.haproxyMasterSocket),
      pidFile: o.haproxyPidFile,
      stopWaitsMs: {
        soft: Math.min(10000, budgetMs * 0.3),
        term: Math.min(3000, budgetMs * 0.15),
        kill: Math.min(2000, budgetMs * 0.1),
      },
      ...(o.maxOldWorkers > 0 ? { oldWorkersWarnAt: o.maxOldWorkers + 1 } : {}), // +1: the one HAProxy is stopping right now
    },
    command: o.command,
    attach: o.haproxyAttach,
    leaveRunning: o.haproxyAttach || o.leaveHaproxyRunning || external,
    handOver: o.leaveHaproxyRunning && !o.haproxyAttach,
    haproxyVersion: o.haproxyVersion,
    files: {
      configPath: o.haproxyConfig,
      haproxyMap: o.haproxyMap,
      archiveVersions: o.archiveVersions,
      live: { hardStopAfterSeconds: o.hardStopAfter, maxOldWorkers: o.maxOldWorkers },
    },
    validate: !o.skipValidation,
    cleanup: !o.skipConfigCleanup,
    retry: { retries: o.maxReloadRetries, intervalMs: o.reloadInterval * 1000 },
    statsIntervalMs: external ? 0 : o.haproxyStatsInterval * 1000,
    onePass: isOnePass(o),
    marathonState: { eventStream: o.sse, staleAfterMs: o.staleAfter * 1000 },
    status: { maxApplyAgeMs: o.maxApplyAge * 1000, healthCheck: o.healthCheck },
    admin: o.adminPort > 0 ? { bind: o.adminBind, port: o.adminPort, token: o.adminToken } : null,
  };
}

/** The Marathon credentials file's text, to keep it out of HAProxy's environment (unreadable: nothing). */
function readSecretFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  const read = readFlagFile('--marathon-auth-credential-file', file);
  return read.ok ? read.value : undefined;
}

/**
 * The secrets kept out of HAProxy's environment: each whole, and the parts a variable may hold alone
 * (a password without its user, a --marathon URL with its credentials and that URL's password).
 */
function heldSecrets(o: Options): (string | undefined)[] {
  const credentials = [o.authCredentials, readSecretFile(o.marathonAuthCredentialFile)];
  const passwords = credentials.map((c) => {
    const parsed = c === undefined ? undefined : parseBasicCredentials(c, 'credentials');
    return parsed?.ok === true ? parsed.value.password : undefined;
  });
  const withUserInfo = o.marathon.filter((u) => u.includes('@'));
  const urlPasswords = withUserInfo.map((u) => {
    try {
      return decodeURIComponent(new URL(u).password) || undefined;
    } catch {
      return undefined; // not a URL: the whole text is held
    }
  });
  return [...credentials, ...passwords, ...withUserInfo, ...urlPasswords, o.dcosAuthCredentials, o.adminToken];
}
