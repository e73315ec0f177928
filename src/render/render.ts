import { openedSectionName, overlongLine, type LoadedFileCheck, type OwnAddresses } from '../model/templateLabels';
import { serviceLabel, type HealthCheck, type PortHolders, type Problem, type Service } from '../model/types';

export type { PortHolders } from '../model/types';
import { sameData, serviceShape } from '../model/equality';
import { cleanName, cookieValue } from '../model/serverIds';
import { bindsClash } from './bindKeys';
import { namingMembers } from '../model/services';
import { drain } from '../steps';
import { placeholderText, type TemplateContext, type TemplateValue } from './format';
import { opensSection } from '../haproxy/sections';
import { translateLegacyDirectives } from './legacyDirectives';
import { ServiceRenderer, ServiceTemplateError } from './serviceRenderer';
import type { TemplateSet } from './templates';
import { AclNames, type AclName } from './aclNames';
import { vhostAcls, type GroupedVhost, type VhostResult } from './vhosts';
import { GroupedSectionNames } from './groupedNames';

export interface RenderOptions {
  /** Not `--dont-bind-http-https`: emit the shared :80/:443 frontends. */
  readonly bindHttpHttps: boolean;
  /** `--ssl-certs`, split on commas. */
  readonly sslCerts: readonly string[];
  readonly haproxyMap: boolean;
  readonly groupHttpsByVhost: boolean;
  /** Directory of `--haproxy-config`: where map files live. */
  readonly haproxyDir: string;
  /** HAPROXY_GLOBAL_DEFAULT_OPTIONS (comma list), default redispatch,http-server-close,dontlognull. */
  readonly globalDefaultOptions: string;
  /** Directory the `lua-load` lines point at (default /marathon-lb). */
  readonly luaDir: string;
  /**
   * The HAProxy driven is 2.1 or newer: directives it removed (reqadd, rspadd, reqrep, …) are
   * translated line by line after placeholders are filled (legacyDirectives.ts). False prints
   * marathon-lb's text as it is (HAProxy 2.0).
   */
  readonly translateLegacy: boolean;
  /**
   * Why HAProxy could not read a file a template label names once its placeholders are filled in
   * (`crt /etc/ssl/{hostname}`, the vhost another label's), or null (model/files.ts); absent: not checked.
   */
  readonly loadedFile?: LoadedFileCheck;
  /** The load balancer's own addresses: a label's placeholders may not make a server there (templateLabels.ts). */
  readonly ownAddresses?: OwnAddresses;
}

export interface RenderedConfig {
  readonly config: string;
  /** Lines of domain2backend.map / app2backend.map (`key backend\n`), empty without --haproxy-map. */
  readonly domainMap: string;
  readonly appMap: string;
  /** The services in the config: the model's, less those left out for the problems below. */
  readonly served: readonly Service[];
  /** Services left out because one of their templates could not be rendered. */
  readonly problems: readonly Problem[];
}

export class ConfigError extends Error {}

interface Shared {
  mapHttpDone: boolean;
  mapHttpsDone: boolean;
  mapAppidDone: boolean;
  readonly appIdsWithAppidAcl: Set<string>;
  readonly aclNames: AclNames;
  readonly domainMap: [string, string][];
  readonly domainMapSeen: Set<string>;
  readonly appMap: [string, string][];
  readonly appMapSeen: Set<string>;
  readonly grouped: Map<string, GroupedVhost>;
  readonly httpList: [number, string][];
  readonly httpsList: [number, string][];
  readonly userlists: string[];
  readonly appidAcls: string[];
  readonly frontends: string[];
  readonly backends: string[];
  /**
   * Names a FRONTEND_HEAD label may not give its frontend: those of the global templates' frontends
   * and listens, every service's backend (each default frontend's name), and labels' names taken
   * before. HAProxy refuses a config with two frontends of one name.
   */
  readonly frontendNames: Set<string>;
  /** With --group-https-by-vhost (and :443 bound), the section names its vhosts take. */
  readonly groupedNames: GroupedSectionNames | null;
  readonly dependsOnVersion: VersionDependence;
  /** Proxy ids (`id N` in a section) templates set, and whose they are. */
  readonly proxyIds: Map<string, string>;
  /** The shared frontends an app's label gave an id, and which app: a proxy has one id. */
  readonly sharedFrontendIds: Map<string, string>;
}

/**
 * What renderConfig made of recent snapshots, for the next one: a service's pieces by the Service
 * object (the model hands back the same object for an unchanged service), gone with that object. The
 * last result is kept whole: a model of the very same services renders to it again. One per template
 * set: the controller keeps it for its lifetime. A changed service renders anew, server lines and all
 * (a few lines each; keying them apart cost more to fill than they saved).
 */
export class RenderCache {
  private entries = new WeakMap<Service, ServiceEntry>();
  private last: { readonly services: readonly Service[]; readonly rendered: RenderedConfig } | undefined;
  private renderedWith: { readonly templates: TemplateSet; readonly opts: RenderOptions } | undefined;

  /** What is cached below holds for one template set and one set of options: other ones start afresh. */
  use(templates: TemplateSet, opts: RenderOptions): void {
    if (this.holds(templates, opts)) return;
    if (this.renderedWith !== undefined) {
      this.entries = new WeakMap();
      this.last = undefined;
    }
    this.renderedWith = { templates, opts };
  }

  /** What was rendered of `svc` before (filled in as it is rendered). */
  entry(svc: Service): ServiceEntry {
    let e = this.entries.get(svc);
    if (e === undefined) this.entries.set(svc, (e = newEntry()));
    return e;
  }

  /** Whether what is cached was rendered with these templates and options. */
  holds(templates: TemplateSet, opts: RenderOptions): boolean {
    return this.renderedWith?.templates === templates && this.renderedWith.opts === opts;
  }

  /** The config rendered last, when it was rendered from these very services (same objects, same order). */
  same(services: readonly Service[]): RenderedConfig | undefined {
    const last = this.last;
    if (last === undefined || last.services.length !== services.length) return undefined;
    for (let i = 0; i < services.length; i++) if (last.services[i] !== services[i]) return undefined;
    return last.rendered;
  }

  remember(services: readonly Service[], rendered: RenderedConfig): void {
    this.last = { services: services.slice(), rendered };
  }
}

/** What one service rendered to, kept by RenderCache (or made for one render without it). */
interface ServiceEntry {
  /** What it contributes outside the shared frontends: depends on it alone. */
  pieces: ServicePieces | undefined;
  /**
   * Its part of the :80/:443 frontends depends on it and, with --haproxy-map, on whether an earlier
   * service already emitted the map lookups (index 0..3: mapHttpDone + 2 * mapHttpsDone).
   */
  vhosts: (VhostResult | undefined)[] | undefined;
  /** The per-app ACL of the first http service of an app, without --haproxy-map. */
  appidAcl: string | undefined;
}

const newEntry = (): ServiceEntry => ({ pieces: undefined, vhosts: undefined, appidAcl: undefined });

interface ServicePieces {
  readonly userlist: string;
  readonly frontend: string;
  /** The backend section, one flat string: the config is joined from a few thousand of these, not tens of thousands of lines. */
  readonly back: string;
}

/** Renders the HAProxy config for a model: marathon-lb's config() with templates that only print. */
export function renderConfig(
  services: readonly Service[],
  templates: TemplateSet,
  opts: RenderOptions,
  cache?: RenderCache,
): RenderedConfig {
  return drain(renderConfigSteps(services, templates, opts, cache));
}

/** Services between two steps of renderConfigSteps. */
const SERVICES_PER_STEP = 128;

/**
 * Told when what is printed depends on `translateLegacy`: a text held a directive HAProxy 2.1 removed,
 * so translating it changed it or could not. `--dry` renders for HAProxy 2.1+ and asks the installed
 * HAProxy its version only when told (dry.ts). It sees what the call renders, not the pieces a
 * RenderCache already holds.
 */
export type VersionDependence = () => void;

const independent: VersionDependence = () => undefined;

/**
 * The port holders of a config marathon-lb wrote: every backend is named `<app id>_<service port>`
 * (services.ts), so its `backend` lines say who serves each port. A restarted controller keeps the
 * ports of what HAProxy served before it, instead of going by app id until its first apply.
 */
export function portHoldersInConfig(config: string): PortHolders {
  const holders = new Map<number, string[]>();
  for (const m of config.matchAll(/^backend[ \t]+(\S+_(\d+))[ \t]*$/gm)) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) continue;
    const list = holders.get(port);
    if (list === undefined) holders.set(port, [m[1]!]);
    else list.push(m[1]!);
  }
  return holders;
}

export function portHoldersOf(services: readonly Service[]): PortHolders {
  const holders = new Map<number, string[]>();
  for (const s of services) {
    const list = holders.get(s.servicePort);
    if (list === undefined) holders.set(s.servicePort, [s.backend]);
    else list.push(s.backend);
  }
  return holders;
}

/** renderConfig a few services at a time (streams/inSlices.ts): the controller renders big snapshots in slices. */
export function* renderConfigSteps(
  services: readonly Service[],
  templates: TemplateSet,
  opts: RenderOptions,
  cache?: RenderCache,
  dependsOnVersion: VersionDependence = independent,
  holders?: PortHolders,
): Generator<void, RenderedConfig, undefined> {
  const head = templates.global('HEAD');
  // An empty item (a blank setting, `a,,b`) printed `option` without a name, which HAProxy refuses.
  const globalDefaultOptions = [
    ...new Set(
      opts.globalDefaultOptions
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== '')
        .map((o) => `  option            ${o}\n`),
    ),
  ]
    .sort()
    .join('');
  const headText = globalText(
    'HEAD',
    head.parts
      .map((p) =>
        typeof p === 'string'
          ? p
          : p.key === 'globalDefaultOptions'
            ? globalDefaultOptions
            : p.key === 'luaDir'
              ? opts.luaDir
              : `{{${p.key}}}`,
      )
      .join(''),
    opts,
    dependsOnVersion,
  );
  if (headText.split(/\s+/).includes('daemon') || !headText.includes('expose-fd listeners')) {
    throw new ConfigError(
      'custom HAPROXY_HEAD: remove "daemon" and add "stats socket /var/run/haproxy/socket expose-fd listeners" (required since marathon-lb 1.12 for seamless reloads)',
    );
  }

  cache?.use(templates, opts);
  // The same services as last time (a snapshot where nothing routed changed): the same config.
  const same = cache?.same(services);
  if (same !== undefined) return { ...same };
  // Only a render that reads labels starts a generation: idle snapshots keep the texts in use.
  templates.nextGeneration();
  const shared: Shared = {
    mapHttpDone: false,
    mapHttpsDone: false,
    mapAppidDone: false,
    appIdsWithAppidAcl: new Set(),
    aclNames: new AclNames(),
    domainMap: [],
    domainMapSeen: new Set(),
    appMap: [],
    appMapSeen: new Set(),
    grouped: new Map(),
    httpList: [],
    httpsList: [],
    userlists: [],
    appidAcls: [],
    frontends: [],
    backends: [],
    frontendNames: globalFrontendNames(templates, opts, services),
    groupedNames:
      opts.bindHttpHttps && opts.groupHttpsByVhost
        ? new GroupedSectionNames(services, globalSectionNames(templates))
        : null,
    dependsOnVersion,
    proxyIds: globalProxyIds(templates, opts),
    sharedFrontendIds: new Map(),
  };
  // A plain DNS vhost's grouped sections are its own whatever the order: no label may name a frontend so.
  for (const name of shared.groupedNames?.plainNames() ?? []) shared.frontendNames.add(name);
  const problems: Problem[] = [];
  const served: Service[] = [];
  const listeners = new Listeners(templates, opts);
  const backendNames = new Set<string>();
  const marathonPorts = portsMarathonGave(services);
  let sinceStep = 0;
  for (const svc of services) {
    if (++sinceStep === SERVICES_PER_STEP) {
      sinceStep = 0;
      yield;
    }
    const clash = conflict(svc, opts, listeners, backendNames, marathonPorts) ?? heldByAnother(svc, services, holders);
    if (clash !== null) {
      problems.push(...namingMembers(clash, svc.deploymentMembers));
      continue;
    }
    try {
      renderService(svc, templates, shared, opts, cache);
      served.push(svc);
      backendNames.add(svc.backend);
      listeners.add(svc.servicePort, svc);
    } catch (e) {
      if (!(e instanceof ServiceTemplateError)) throw e;
      if (e.global) throw new ConfigError(e.message); // every app using that template would be left out
      // The message may name the label too (`label HAPROXY_{n}_BACKEND_HEAD uses {nope}`).
      const label = serviceLabel(svc, e.label);
      const message = e.label === null ? e.message : e.message.replaceAll(e.label, label!);
      problems.push(
        ...namingMembers({ appId: svc.appId, portIndex: svc.portIndex, label, message }, svc.deploymentMembers),
      );
    }
  }

  yield; // the sorts and the join below are the longest pieces left (10 000 services: tens of ms)
  // Grouped, the operator's certificates are printed only for vhosts without one of their own.
  if (opts.bindHttpHttps && (!opts.groupHttpsByVhost || [...shared.grouped.values()].some((g) => g.certs.size === 0)))
    checkOperatorCerts(templates, opts, dependsOnVersion);
  const sslCerts = operatorCerts(opts);
  const byWeight = (a: [number, string], b: [number, string]): number => b[0] - a[0];
  const vhosts = [...shared.grouped.keys()].sort();
  const out: string[] = [headText, ...shared.userlists];
  if (opts.bindHttpHttps) {
    out.push(
      text(templates, 'HTTP_FRONTEND_HEAD', {}, opts, dependsOnVersion),
      ...shared.httpList.sort(byWeight).map((e) => e[1]),
    );
  }
  out.push(text(templates, 'HTTP_FRONTEND_APPID_HEAD', {}, opts, dependsOnVersion), ...shared.appidAcls);
  if (opts.bindHttpHttps) {
    if (opts.groupHttpsByVhost) {
      out.push(text(templates, 'HTTPS_GROUPED_FRONTEND_HEAD', {}, opts, dependsOnVersion));
      for (const vhost of vhosts)
        out.push(
          text(
            templates,
            'HTTPS_GROUPED_VHOST_FRONTEND_ACL',
            { backend: cleanName(vhost), host: vhost },
            opts,
            dependsOnVersion,
          ),
        );
      for (const vhost of vhosts) {
        const g = shared.grouped.get(vhost)!;
        out.push(
          text(templates, 'HTTPS_GROUPED_VHOST_BACKEND_HEAD', { name: cleanName(vhost) }, opts, dependsOnVersion),
        );
        out.push(groupedFrontendHead(vhost, g.certs, g.bindOptions, templates, opts, dependsOnVersion));
        out.push(...g.entries.sort(byWeight).map((e) => e[1]));
      }
    } else {
      out.push(
        text(templates, 'HTTPS_FRONTEND_HEAD', { sslCerts: crtWords(sslCerts) }, opts, dependsOnVersion),
        ...shared.httpsList.sort(byWeight).map((e) => e[1]),
      );
    }
  }
  yield;
  const config = out.concat(shared.frontends, shared.backends).join('');
  const mapText = (m: readonly (readonly [string, string])[]): string => m.map(([k, v]) => `${k} ${v}\n`).join('');
  const rendered = { config, domainMap: mapText(shared.domainMap), appMap: mapText(shared.appMap), served, problems };
  cache?.remember(services, rendered);
  return { ...rendered };
}

/**
 * `base` (rendered with `cache` from the services `before`, its `served`) for the services `after`
 * when they differ only in servers: each changed service's backend section is rendered anew and put
 * in place of its old one, the rest of the text kept as it is — what renderConfig(after) gives, since
 * a backend section ends with its server lines and nothing else reads the servers. At 10 000 apps a
 * snapshot with the task events of its fetch replayed on it was rendered twice in full, the second
 * time for a few changed servers. Null when the lists do not pair up (a service added, removed,
 * moved or otherwise changed) or the cache does not hold every section of `base`: render in full then.
 */
export function withServersOf(
  base: RenderedConfig,
  after: readonly Service[],
  templates: TemplateSet,
  opts: RenderOptions,
  cache: RenderCache,
): RenderedConfig | null {
  const before = base.served;
  if (before.length !== after.length || !cache.holds(templates, opts)) return null;
  // The backend sections close the config, in the services' order.
  let tail = 0;
  const backs: string[] = [];
  for (const svc of before) {
    const back = cache.entry(svc).pieces?.back;
    if (back === undefined) return null;
    backs.push(back);
    tail += back.length;
  }
  const parts: string[] = [];
  let at = base.config.length - tail;
  let from = 0;
  for (let i = 0; i < after.length; i++) {
    const a = before[i]!;
    const b = after[i]!;
    const old = backs[i]!;
    if (a !== b) {
      if (a.backend !== b.backend || !sameData(serviceShape(a), serviceShape(b))) return null;
      if (!base.config.startsWith(old, at)) return null;
      const entry = cache.entry(b);
      try {
        entry.pieces ??= servicePieces(
          b,
          new ServiceRenderer(
            templates,
            b,
            opts.translateLegacy,
            opts.haproxyDir,
            undefined,
            opts.loadedFile,
            opts.ownAddresses,
          ),
        );
      } catch (e) {
        if (e instanceof ServiceTemplateError) return null;
        throw e;
      }
      parts.push(base.config.slice(from, at), entry.pieces.back);
      from = at + old.length;
    }
    at += old.length;
  }
  if (parts.length === 0) return { ...base, served: after, problems: [] };
  parts.push(base.config.slice(from));
  const rendered = { ...base, config: parts.join(''), served: after, problems: [] };
  cache.remember(after, rendered);
  return { ...rendered };
}

const BIND_LINE = /^[ \t]*bind[ \t]+(\S*):(\d+)\b/gm;

/**
 * Which app holds each (address, port) in this config. A port the global frontends bind (stats,
 * :9091, :80/:443 unless --dont-bind-http-https, any `bind` in a custom HAPROXY_HEAD) is taken
 * before any app; among apps the first in the model's order (app id, then service port) keeps it.
 */
/** A Service, or a global frontend of a template. */
interface Holder {
  readonly bindAddr: string;
  readonly appId: string;
  readonly template?: string;
}

class Listeners {
  /** The first holder of each port (a Service, or a template), and rarely more on other addresses. */
  private readonly first = new Map<number, Holder>();
  private readonly more = new Map<number, Holder[]>();

  constructor(templates: TemplateSet, opts: RenderOptions) {
    const names = ['HEAD', 'HTTP_FRONTEND_APPID_HEAD'];
    if (opts.bindHttpHttps)
      names.push('HTTP_FRONTEND_HEAD', opts.groupHttpsByVhost ? 'HTTPS_GROUPED_FRONTEND_HEAD' : 'HTTPS_FRONTEND_HEAD');
    for (const name of names) {
      for (const m of literalText(templates, name).matchAll(BIND_LINE))
        this.add(Number(m[2]), {
          bindAddr: m[1]!,
          appId: '',
          template: name === 'HEAD' ? 'HAPROXY_HEAD' : `HAPROXY_${name}`,
        });
    }
  }

  /** Who already listens where `svc` would, or null. */
  holder(svc: Service): string | null {
    const first = this.first.get(svc.servicePort);
    if (first === undefined) return null;
    const h = clashes(first, svc) ? first : this.more.get(svc.servicePort)?.find((m) => clashes(m, svc));
    if (h === undefined) return null;
    return h.template !== undefined ? `the ${h.template} template` : `app ${h.appId}`;
  }

  add(port: number, holder: Holder): void {
    if (!this.first.has(port)) this.first.set(port, holder);
    else {
      const list = this.more.get(port);
      if (list === undefined) this.more.set(port, [holder]);
      else list.push(holder);
    }
  }
}

/** A frontend or listen section opened in a global template's literal text (its name not a placeholder). */
const PROXY_LINE = /^[ \t]*(?:frontend|listen)[ \t]+([^ \t{]+)[ \t]*$/gm;

/** Shared.frontendNames at the start of a render. */
function globalFrontendNames(templates: TemplateSet, opts: RenderOptions, services: readonly Service[]): Set<string> {
  const names = new Set<string>();
  // Only read when a label names a frontend: most snapshots have none.
  if (!services.some((svc) => svc.templateLabels.FRONTEND_HEAD !== undefined)) return names;
  for (const svc of services) names.add(svc.backend);
  const globals = ['HEAD', 'HTTP_FRONTEND_HEAD', 'HTTP_FRONTEND_APPID_HEAD', 'HTTPS_FRONTEND_HEAD'];
  if (opts.groupHttpsByVhost) globals.push('HTTPS_GROUPED_FRONTEND_HEAD');
  for (const name of globals) for (const m of literalText(templates, name).matchAll(PROXY_LINE)) names.add(m[1]!);
  return names;
}

/** A section of any kind opened in a global template's literal text. */
const SECTION_LINE = /^[ \t]*(?:frontend|listen|backend)[ \t]+([^ \t{]+)[ \t]*$/gm;

/** The sections the global templates open, by name, with the label that names each template. */
/** The proxy ids the global section templates printed with `opts` set (an operator's `id` lines), by template. */
function globalProxyIds(templates: TemplateSet, opts: RenderOptions): Map<string, string> {
  const ids = new Map<string, string>();
  const printed = ['HEAD', 'HTTP_FRONTEND_APPID_HEAD'];
  if (opts.bindHttpHttps)
    printed.push('HTTP_FRONTEND_HEAD', opts.groupHttpsByVhost ? 'HTTPS_GROUPED_FRONTEND_HEAD' : 'HTTPS_FRONTEND_HEAD');
  for (const name of printed)
    for (const m of literalText(templates, name).matchAll(PROXY_ID_LINE))
      ids.set(proxyId(m[1]!), `the HAPROXY_${name} template`);
  return ids;
}

const GLOBAL_SECTION_TEMPLATES = [
  'HEAD',
  'HTTP_FRONTEND_HEAD',
  'HTTP_FRONTEND_APPID_HEAD',
  'HTTPS_GROUPED_FRONTEND_HEAD',
];

function globalSectionNames(templates: TemplateSet): Map<string, string> {
  const names = new Map<string, string>();
  for (const name of GLOBAL_SECTION_TEMPLATES)
    for (const m of literalText(templates, name).matchAll(SECTION_LINE))
      if (!names.has(m[1]!)) names.set(m[1]!, `HAPROXY_${name}`);
  return names;
}

/** A global template's text without its placeholders: what it prints whatever they hold. */
const literalText = (templates: TemplateSet, name: string): string =>
  templates
    .global(name)
    .parts.filter((p): p is string => typeof p === 'string')
    .join('');

/**
 * A BACKEND_HEAD or USERLIST_HEAD label's section must have the name the rest of the config uses for
 * it (`use_backend web_80`, `http_auth(user_web_80)`): another name leaves those pointing at nothing,
 * or at another app's section (two backends of one name: HAProxy refuses the config).
 */
function requireOwnSection(svc: Service, text: string, labelName: string, what: string, own: string): void {
  if (svc.templateLabels[labelName] === undefined) return;
  const name = openedSectionName(text);
  if (name === own) return;
  throw new ServiceTemplateError(
    `HAPROXY_{n}_${labelName}`,
    `its ${what} section is named ${JSON.stringify(name ?? '')}, not ${own}, the name the rest of the config gives it`,
  );
}

/** The longest abstract socket name HAProxy takes (`abns@NAME`: a Unix socket path less its leading NUL). */
const MAX_ABNS_NAME = 107;

const clashes = (h: Holder, svc: Service): boolean => bindsClash(h.bindAddr, svc.bindAddr);

/** Why `svc` cannot join the config rendered so far, or null. */
/** The service ports Marathon gave to apps (not chosen by a HAPROXY_{n}_PORT label), with the first app given each. */
function portsMarathonGave(services: readonly Service[]): ReadonlyMap<number, string> {
  const ports = new Map<number, string>();
  // Read only for services a label gave a port: most snapshots have none, and no map is made then.
  if (!services.some((svc) => svc.servicePortFromLabel === true)) return ports;
  for (const svc of services)
    if (svc.servicePortFromLabel !== true && !ports.has(svc.servicePort)) ports.set(svc.servicePort, svc.appId);
  return ports;
}

function conflict(
  svc: Service,
  opts: RenderOptions,
  listeners: Listeners,
  backendNames: ReadonlySet<string>,
  marathonPorts: ReadonlyMap<number, string>,
): Problem | null {
  // With --haproxy-map its vhost is only a map entry, which HAProxy takes (marathon-lb's config, its TCP
  // listener served); a use_backend line naming a tcp backend in the :80 frontend makes it refuse all.
  // A path, auth or a redirect to https still gets such lines with the maps (vhosts.ts).
  const onlyMapped = opts.haproxyMap && svc.path === null && svc.auth === null && !svc.redirectHttpToHttps;
  if (opts.bindHttpHttps && !onlyMapped && svc.hostname && svc.mode === 'tcp') {
    return {
      appId: svc.appId,
      portIndex: svc.portIndex,
      label: serviceLabel(svc, 'HAPROXY_{n}_VHOST'),
      message: `service port ${svc.servicePort} has a vhost but mode tcp: the :80/:443 frontends route HTTP only (set ${serviceLabel(svc, 'HAPROXY_{n}_MODE')}=http or drop the vhost)`,
    };
  }
  // --group-https-by-vhost names a frontend and its abstract socket after each vhost: HAProxy refuses
  // the whole config for a socket name past 107 characters (found by the property test).
  const tooLong =
    opts.bindHttpHttps && opts.groupHttpsByVhost && svc.hostname
      ? svc.hostname.split(',').find((vhost) => cleanName(vhost).length > MAX_ABNS_NAME)
      : undefined;
  if (tooLong !== undefined) {
    return {
      appId: svc.appId,
      portIndex: svc.portIndex,
      label: serviceLabel(svc, 'HAPROXY_{n}_VHOST'),
      message: `vhost ${JSON.stringify(tooLong.length > 80 ? `${tooLong.slice(0, 80)}...` : tooLong)} is longer than the ${MAX_ABNS_NAME} characters --group-https-by-vhost can name its socket after`,
    };
  }
  if (backendNames.has(svc.backend)) {
    return {
      appId: svc.appId,
      portIndex: null,
      label: 'id',
      message: `backend name ${svc.backend} is already used by an app served before this one (the same id, or one differing only in "/" and "_")`,
    };
  }
  // A label cannot take another app's Marathon service port, even with an app id sorted first.
  const owner = svc.servicePortFromLabel === true ? marathonPorts.get(svc.servicePort) : undefined;
  if (owner !== undefined && owner !== svc.appId) {
    return {
      appId: svc.appId,
      portIndex: svc.portIndex,
      label: serviceLabel(svc, 'HAPROXY_{n}_PORT'),
      message: `service port ${svc.servicePort} is the Marathon service port of app ${owner}; a label cannot take it`,
    };
  }
  const holder = listeners.holder(svc);
  if (holder !== null) {
    return {
      appId: svc.appId,
      portIndex: null,
      label: null,
      message: `service port ${svc.servicePort} is already bound by ${holder}; the first app in app id order keeps a port`,
    };
  }
  return null;
}

/** Why `svc` may not take its port from the service that holds it in the config HAProxy runs, or null. */
function heldByAnother(svc: Service, services: readonly Service[], holders: PortHolders | undefined): Problem | null {
  const held = holders?.get(svc.servicePort);
  if (held === undefined || held.includes(svc.backend)) return null;
  // Only while such a service still asks for the port: one that gave it up leaves it to the others.
  const keeper = services.find((s) => s.servicePort === svc.servicePort && held.includes(s.backend) && clashes(s, svc));
  if (keeper === undefined) return null;
  return {
    appId: svc.appId,
    portIndex: null,
    label: null,
    message: `service port ${svc.servicePort} is served by app ${keeper.appId}, which held it before this app asked for it; the app already served keeps a port`,
  };
}

function text(
  templates: TemplateSet,
  name: string,
  ctx: TemplateContext,
  opts: RenderOptions,
  dependsOnVersion: VersionDependence,
): string {
  const t = templates.global(name);
  let s = '';
  for (const p of t.parts) {
    if (typeof p === 'string') {
      s += p;
      continue;
    }
    const v = placeholderText(p, ctx);
    if (typeof v === 'string') s += v;
    else if ('invalid' in v) throw new ConfigError(`template HAPROXY_${name}: cannot format ${v.invalid}`);
    else
      throw new ConfigError(
        `template HAPROXY_${name} uses {${p.key}}, which is not available there (available: ${Object.keys(ctx).join(', ') || 'none'})`,
      );
  }
  return t.legacy ? globalText(name, s, opts, dependsOnVersion) : s;
}

/** A global template's text for the HAProxy driven: one that cannot be translated stops the whole config. */
function globalText(name: string, s: string, opts: RenderOptions, dependsOnVersion: VersionDependence): string {
  if (!opts.translateLegacy) return s;
  const tr = translateLegacyDirectives(s);
  if (!tr.ok || tr.value !== s) dependsOnVersion();
  if (tr.ok) return tr.value;
  throw new ConfigError(`template HAPROXY_${name}: ${tr.error.message} (line: ${tr.error.line})`);
}

/**
 * What one service alone contributes: its userlist, its own frontend, its backend. Templates append
 * their parts to a section that is joined once (no string per template, per server line).
 */
function servicePieces(svc: Service, r: ServiceRenderer): ServicePieces {
  const { backend } = svc;
  const userlist =
    svc.auth === null ? '' : r.render('USERLIST_HEAD', { backend, user: svc.auth.user, passwd: svc.auth.passwd });
  const pieces = {
    userlist,
    frontend: inRuleOrder(r, () => frontendOf(svc, r)),
    back: inRuleOrder(r, () => backendOf(svc, r)),
  };
  for (const [what, text] of [
    ['frontend', pieces.frontend],
    ['backend', pieces.back],
    ['userlist', userlist],
  ] as const) {
    const long = overlongLine(text);
    if (long !== null)
      throw new ServiceTemplateError(
        null,
        `line ${long.number} of its ${what} has ${long.words} words (HAProxy reads at most 64 a line and refuses the whole config): ${JSON.stringify(long.line.trim().slice(0, 120))}`,
      );
  }
  const serverLabel = SERVER_LINE_LABELS.find((n) => svc.templateLabels[n] !== undefined);
  if (serverLabel !== undefined && svc.servers.length > 1) {
    const id = repeatedServerId(pieces.back);
    if (id !== null)
      throw new ServiceTemplateError(
        `HAPROXY_{n}_${serverLabel}`,
        `it gives two servers of its backend the id ${id} (HAProxy refuses two servers of one id in a backend and the whole config with them)`,
      );
  }
  requireOwnSection(svc, pieces.back, 'BACKEND_HEAD', 'backend', backend);
  if (userlist !== '') requireOwnSection(svc, userlist, 'USERLIST_HEAD', 'userlist', `user_${backend}`);
  return pieces;
}

/**
 * A section's text, its translated rules in the order 2.0 ran them across all its templates: each
 * template's text is translated alone first (a line that cannot be is named with its label there),
 * and, when one of them held rules that move, the section is rendered again untranslated and
 * translated whole.
 */
function inRuleOrder(r: ServiceRenderer, section: () => string): string {
  r.movedRules = false;
  const text = section();
  if (!r.movedRules) return text;
  const whole = translateLegacyDirectives(r.untranslated(section));
  return whole.ok ? whole.value : text;
}

function frontendOf(svc: Service, r: ServiceRenderer): string {
  const { backend, mode } = svc;
  const front: string[] = [];
  r.renderInto(
    'FRONTEND_HEAD',
    {
      bindAddr: svc.bindAddr,
      backend,
      servicePort: svc.servicePort,
      mode,
      sslCert: svc.sslCert ? ` ssl crt ${svc.sslCert}` : '',
      bindOptions: svc.bindOptions ? ` ${svc.bindOptions}` : '',
    },
    front,
  );
  r.renderInto('FRONTEND_BACKEND_GLUE', { backend }, front);
  return front.join('');
}

function backendOf(svc: Service, r: ServiceRenderer): string {
  const { backend, mode } = svc;
  const back: string[] = [];
  r.renderInto('BACKEND_HEAD', { backend, balance: svc.balance, mode }, back);
  if (mode === 'http') {
    if (svc.useHsts) r.renderInto('BACKEND_HSTS_OPTIONS', {}, back);
    r.renderInto('BACKEND_HTTP_OPTIONS', {}, back);
    if (svc.proxyPath)
      r.renderInto('HTTP_BACKEND_PROXYPASS_GLUE', { hostname: svc.hostname, proxypath: svc.proxyPath }, back);
    if (svc.revProxyPath)
      r.renderInto('HTTP_BACKEND_REVPROXY_GLUE', { hostname: svc.hostname, rootpath: svc.revProxyPath }, back);
    // The HAPROXY_{n}_HTTP_BACKEND_REDIR label is the redirect path, so only the global template applies.
    if (svc.redirPath)
      r.renderInto('HTTP_BACKEND_REDIR', { hostname: svc.hostname, redirpath: svc.redirPath }, back, '');
  }
  if (svc.networkAllowed) {
    const kind = mode === 'http' ? 'HTTP' : 'TCP';
    for (const network of svc.networkAllowed.split(/\s+/).filter((n) => n !== '')) {
      r.renderInto(`${kind}_BACKEND_NETWORK_ALLOWED_ACL`, { network_allowed: network }, back);
    }
    r.renderInto(`${kind}_BACKEND_ACL_ALLOW_DENY`, {}, back, '');
  }
  if (svc.sticky) r.renderInto('BACKEND_STICKY_OPTIONS', {}, back);
  renderServers(svc, r, back);
  return back.join('');
}

/**
 * Renders one service into local strings first, so a template error leaves nothing half-added.
 * What the cache kept of it is taken as it is; its renderer is made only when something is missing.
 */
function renderService(
  svc: Service,
  templates: TemplateSet,
  shared: Shared,
  opts: RenderOptions,
  cache: RenderCache | undefined,
): void {
  const { backend, mode } = svc;
  const entry = cache === undefined ? newEntry() : cache.entry(svc);
  let r: ServiceRenderer | undefined;
  const renderer = (): ServiceRenderer =>
    (r ??= new ServiceRenderer(
      templates,
      svc,
      opts.translateLegacy,
      opts.haproxyDir,
      shared.dependsOnVersion,
      opts.loadedFile,
      opts.ownAddresses,
    ));
  const pieces = entry.pieces ?? (entry.pieces = servicePieces(svc, renderer()));
  const frontendName = labelledFrontendName(svc, pieces.frontend, shared.frontendNames);
  let vhost: VhostResult | null = null;
  const aclName = opts.bindHttpHttps && svc.hostname ? shared.aclNames.vhostName(svc) : null;
  if (aclName !== null) {
    const flags = (shared.mapHttpDone ? 1 : 0) + (shared.mapHttpsDone ? 2 : 0);
    // Cached under marathon-lb's name only: another name depends on the services before this one.
    const byFlags = aclName.own ? (entry.vhosts ??= []) : [];
    vhost = byFlags[flags] ??= vhostAcls(svc, renderer(), {
      mapHttpDone: shared.mapHttpDone,
      mapHttpsDone: shared.mapHttpsDone,
      haproxyMap: opts.haproxyMap,
      haproxyDir: opts.haproxyDir,
      groupHttpsByVhost: opts.groupHttpsByVhost,
      aclName: aclName.name,
    });
  }

  let appidAcl = '';
  let appidName: AclName | null = null;
  let appidMapDone = shared.mapAppidDone;
  const addsAppid = mode === 'http' && !shared.appIdsWithAppidAcl.has(svc.appId);
  if (addsAppid) {
    if (opts.haproxyMap) {
      if (!appidMapDone) {
        appidAcl = renderer().render(
          'MAP_HTTP_FRONTEND_APPID_ACL',
          { haproxy_dir: opts.haproxyDir },
          'HTTP_FRONTEND_APPID_ACL',
        );
        appidMapDone = true;
      }
    } else {
      appidName = shared.aclNames.appidName(svc);
      const render = (): string =>
        renderer().render('HTTP_FRONTEND_APPID_ACL', {
          cleanedUpAppId: appidName!.name,
          hostname: svc.hostname,
          appId: svc.appId,
          backend,
        });
      appidAcl = appidName.own ? (entry.appidAcl ??= render()) : render();
    }
  }

  const sectionsClash =
    vhost === null ? null : (shared.groupedNames?.whyNot(svc, vhost.grouped.keys(), shared.frontendNames) ?? null);
  if (sectionsClash !== null) throw new ServiceTemplateError('HAPROXY_{n}_VHOST', sectionsClash);
  const ids =
    Object.keys(svc.templateLabels).length === 0
      ? []
      : proxyIdsOf(svc, pieces, vhost, appidAcl, opts.groupHttpsByVhost);
  for (const { id, label, sharedFrontend } of ids) {
    const owner = shared.proxyIds.get(id);
    if (owner !== undefined)
      throw new ServiceTemplateError(
        label,
        `it sets the proxy id ${id}, which ${owner} has (HAProxy refuses two proxies of one id and the whole config with them)`,
      );
    const before = sharedFrontend === null ? undefined : shared.sharedFrontendIds.get(sharedFrontend);
    if (before !== undefined)
      throw new ServiceTemplateError(
        label,
        `it gives the shared ${sharedFrontend} frontend an id, which ${before} gave it already (HAProxy refuses a proxy with two ids and the whole config with it)`,
      );
  }
  if (Object.keys(svc.templateLabels).length > 0) sameModes(svc, pieces, [appidAcl, ...sharedTexts(vhost, opts)]);
  if (vhost !== null) overlongVhostLine(vhost);
  if (vhost !== null && opts.groupHttpsByVhost) overflowGroupedBind(vhost.grouped, shared, templates, opts);

  // Everything rendered: commit to the shared state.
  for (const { id, sharedFrontend } of ids) {
    shared.proxyIds.set(id, `app ${svc.appId}`);
    if (sharedFrontend !== null) shared.sharedFrontendIds.set(sharedFrontend, `app ${svc.appId}`);
  }
  if (pieces.userlist !== '') shared.userlists.push(pieces.userlist);
  shared.frontends.push(pieces.frontend);
  if (frontendName !== undefined) shared.frontendNames.add(frontendName);
  shared.backends.push(pieces.back);
  if (aclName !== null) shared.aclNames.keepVhost(aclName.name, svc);
  if (appidName !== null) shared.aclNames.keepAppid(appidName.name, svc);
  if (addsAppid) {
    shared.appIdsWithAppidAcl.add(svc.appId);
    if (appidAcl !== '') shared.appidAcls.push(appidAcl);
    shared.mapAppidDone = appidMapDone;
    if (opts.haproxyMap) addMapEntry(shared.appMap, shared.appMapSeen, svc.appId, backend);
  }
  if (vhost !== null) {
    shared.mapHttpDone = vhost.mapHttpDone;
    shared.mapHttpsDone = vhost.mapHttpsDone;
    shared.httpList.push([vhost.weight, vhost.http]);
    shared.httpsList.push([vhost.weight, vhost.https]);
    for (const [host, be] of vhost.domainMap) addMapEntry(shared.domainMap, shared.domainMapSeen, host, be);
    if (opts.groupHttpsByVhost) mergeGrouped(shared.grouped, vhost.grouped);
    shared.groupedNames?.claim(svc, vhost.grouped.keys(), shared.frontendNames);
  }
}

/**
 * The name a FRONTEND_HEAD label gives the service's frontend when it is not the default one (its
 * backend's name), else undefined; one another frontend of the config has (`taken`) is refused.
 */
function labelledFrontendName(svc: Service, frontend: string, taken: ReadonlySet<string>): string | undefined {
  if (svc.templateLabels.FRONTEND_HEAD === undefined) return undefined;
  const name = openedSectionName(frontend) ?? '';
  if (name === svc.backend) return undefined;
  if (name === '' || taken.has(name)) {
    throw new ServiceTemplateError(
      'HAPROXY_{n}_FRONTEND_HEAD',
      `its frontend is named ${JSON.stringify(name)}, ${name === '' ? 'which is no name' : 'which another frontend of this config has'} (HAProxy refuses two frontends of one name)`,
    );
  }
  return name;
}

/** marathon-lb adds a map line once per distinct (key, backend) pair; a Set keeps that linear. */
function addMapEntry(map: [string, string][], seen: Set<string>, key: string, backend: string): void {
  const tag = `${key}\u0000${backend}`;
  if (seen.has(tag)) return;
  seen.add(tag);
  map.push([key, backend]);
}

/**
 * Throws when a line the service adds to the shared :80/:443 frontends has more than HAProxy's 64
 * words: a VHOST of 59 names separated by blanks made one `use_backend … if { ssl_fc_sni … }` line
 * of 65, and HAProxy refused the whole config (found by an audit).
 */
function overlongVhostLine(vhost: VhostResult): void {
  const texts = [vhost.http, vhost.https, ...[...vhost.grouped.values()].flatMap((g) => g.entries.map((e) => e[1]))];
  for (const t of texts) {
    const long = overlongLine(t);
    if (long !== null)
      throw new ServiceTemplateError(
        'HAPROXY_{n}_VHOST',
        `its vhost routing makes a line of ${long.words} words (HAProxy reads at most 64 a line and refuses the whole config): ${JSON.stringify(long.line.trim().slice(0, 120))}`,
      );
  }
}

/**
 * Throws when the service's frontend is in mode http and its backend in mode tcp: HAProxy refuses an
 * http frontend that uses a tcp backend, and the whole config with it (a FRONTEND_HEAD label saying
 * `mode http` for an app without a MODE label, or a BACKEND_HEAD saying `mode tcp` for an http app;
 * found by audits). A section that says no mode is left to HAProxy.
 */
function sameModes(
  svc: Service,
  pieces: { readonly frontend: string; readonly back: string },
  shared: readonly string[],
): void {
  const back = firstSectionMode(pieces.back);
  if (back !== 'tcp') return;
  const front = firstSectionMode(pieces.frontend);
  // A tcp frontend may use an http backend: HAProxy upgrades the connection. The shared frontends
  // are http ones; they use the backend only where their lines name it (not through a map).
  const usedByShared = (): boolean =>
    shared.some((t) =>
      t.split('\n').some((line) => {
        const words = line.trim().split(/[ \t]+/);
        return words[0] === 'use_backend' && words[1] === svc.backend;
      }),
    );
  if (front !== 'http' && !usedByShared()) return;
  const label = ['FRONTEND_HEAD', 'BACKEND_HEAD'].find((n) => svc.templateLabels[n] !== undefined);
  throw new ServiceTemplateError(
    label === undefined ? null : `HAPROXY_{n}_${label}`,
    `its backend is in mode tcp, used by ${front === 'http' ? 'its own frontend in mode http' : 'the shared http frontends'} (HAProxy refuses an http frontend using a tcp backend, and the whole config with it)`,
  );
}

/** The lines a service adds to the shared :80 and :443 frontends, as they are printed. */
function sharedTexts(vhost: VhostResult | null, opts: RenderOptions): string[] {
  if (vhost === null) return [];
  if (!opts.groupHttpsByVhost) return [vhost.http, vhost.https];
  return [vhost.http, ...[...vhost.grouped.values()].flatMap((g) => g.entries.map((e) => e[1]))];
}

/** The last `mode` of the first section of a rendered piece, lowercased; null when none is seen. */
function firstSectionMode(text: string): string | null {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^[ \t]*(frontend|backend|listen)[ \t]/.test(l));
  if (start < 0) return null;
  let mode: string | null = null;
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (opensSection(l)) break; // HAProxy reads keywords, not indentation
    const m = /^[ \t]*mode[ \t]+(\S+)/.exec(l);
    if (m !== null) mode = m[1]!.toLowerCase();
  }
  return mode;
}

/** A proxy's own `id` line (not a server's or a bind's keyword). */
const PROXY_ID_LINE = /^[ \t]*id[ \t]+(\S+)/gm;

/** An id as HAProxy reads the number (`0100` and `+100` are 100); other text as it is. */
function proxyId(word: string): string {
  return /^\+?\d+$/.test(word) ? String(Number.parseInt(word, 10)) : word;
}

/**
 * The proxy ids a service's template labels set, each with the label to name (the first of the
 * service's labels whose text sets it; null: none does, a global template's) and, for an id in a
 * shared frontend (:80, :443, the app-id one), which. Each of its own sections and each grouped
 * vhost's frontend is a proxy apart: one id twice among them, or two ids in one, is refused at once.
 * Two apps' `id 100` each passed alone, and HAProxy refused the whole config with both (audits).
 */
function proxyIdsOf(
  svc: Service,
  pieces: ServicePieces,
  vhost: VhostResult | null,
  appidAcl: string,
  grouped: boolean,
): { readonly id: string; readonly label: string | null; readonly sharedFrontend: string | null }[] {
  const proxies: [text: string, sharedFrontend: string | null][] = [
    [pieces.frontend, null],
    [pieces.back, null],
    [appidAcl, 'app-id'],
  ];
  if (vhost !== null) {
    proxies.push([vhost.http, ':80']);
    // Grouped, the :443 lines are printed in each vhost's frontend instead.
    if (!grouped) proxies.push([vhost.https, ':443']);
    for (const [name, g] of vhost.grouped) proxies.push([g.entries.map((e) => e[1]).join(''), `${name} (grouped)`]);
  }
  const found: { id: string; label: string | null; sharedFrontend: string | null }[] = [];
  const seen = new Set<string>();
  for (const [text, sharedFrontend] of proxies) {
    if (!text.includes('id')) continue;
    let inThis = 0;
    for (const m of text.matchAll(PROXY_ID_LINE)) {
      const id = proxyId(m[1]!);
      const label = labelSetting(svc, m[1]!);
      if (seen.has(id) || ++inThis > 1)
        throw new ServiceTemplateError(
          label,
          `it sets the proxy id ${id} ${seen.has(id) ? 'in two sections' : 'in a section that has an id already'} (HAProxy refuses two proxies of one id, or two ids for one proxy, and the whole config with them)`,
        );
      seen.add(id);
      found.push({ id, label, sharedFrontend });
    }
  }
  return found;
}

/** The service's template label whose text has the line `id <word>`, as HAPROXY_{n}_NAME; null for none. */
function labelSetting(svc: Service, word: string): string | null {
  for (const [name, text] of Object.entries(svc.templateLabels))
    for (const m of text.matchAll(PROXY_ID_LINE)) if (m[1] === word) return `HAPROXY_{n}_${name}`;
  return null;
}

/** Labels whose text is printed on each server line. */
const SERVER_LINE_LABELS = [
  'BACKEND_SERVER_OPTIONS',
  'BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS',
  'BACKEND_SERVER_TCP_HEALTHCHECK_OPTIONS',
];

/** A server id two server lines of a backend's text share (HAProxy reads the last `id` of a line); null for none. */
function repeatedServerId(back: string): string | null {
  const ids = new Set<string>();
  for (const line of back.split('\n')) {
    if (!/^[ \t]*server[ \t]/.test(line)) continue;
    // A number after ` id `: the word `id` may be another keyword's argument (`check-sni id`); a
    // comment is no keyword.
    const hash = line.indexOf('#');
    const matches = [...(hash < 0 ? line : line.slice(0, hash)).matchAll(/[ \t]id[ \t]+(\+?\d+)(?=[ \t]|$)/g)];
    const id = matches.length === 0 ? undefined : proxyId(matches[matches.length - 1]![1]!);
    if (id === undefined) continue;
    if (ids.has(id)) return id;
    ids.add(id);
  }
  return null;
}

/** Certificates as a bind line's words: `crt A crt B`. */
function crtWords(certs: Iterable<string>): string {
  return [...certs].map((c) => `crt ${c}`).join(' ');
}

/** The certificates of a :443 bind line with no app's own: `--ssl-certs`, or marathon-lb's default. */
function operatorCerts(opts: RenderOptions): readonly string[] {
  return opts.sslCerts.length > 0 ? opts.sslCerts : ['/etc/ssl/cert.pem'];
}

/**
 * `--ssl-certs` as the :443 bind lines print it: each path one word (a blank, `#` or quote in it split
 * the line, made the rest a comment or opened a quote), and the line within HAProxy's 64 words (31 certificates made 66).
 * HAProxy refused the whole config; now the controller says why at its first render.
 */
function checkOperatorCerts(templates: TemplateSet, opts: RenderOptions, dependsOnVersion: VersionDependence): void {
  const certs = operatorCerts(opts);
  const split = certs.find((c) => /[\s#'"]/.test(c));
  if (split !== undefined)
    throw new ConfigError(
      `--ssl-certs: ${JSON.stringify(split)} has a blank, # or quote, which HAProxy does not read as part of the path`,
    );
  const head = opts.groupHttpsByVhost
    ? groupedFrontendHead('operator', new Set(), new Set(), templates, opts, dependsOnVersion)
    : text(templates, 'HTTPS_FRONTEND_HEAD', { sslCerts: crtWords(certs) }, opts, dependsOnVersion);
  const long = overlongLine(head);
  if (long !== null)
    throw new ConfigError(
      `--ssl-certs: ${certs.length} certificates make the :443 bind line ${long.words} words long (HAProxy reads at most 64 a line)`,
    );
}

/** A grouped vhost's frontend and its bind line, with the certificates and bind options of its apps. */
function groupedFrontendHead(
  vhost: string,
  certs: ReadonlySet<string>,
  bindOptions: ReadonlySet<string>,
  templates: TemplateSet,
  opts: RenderOptions,
  dependsOnVersion: VersionDependence,
): string {
  return text(
    templates,
    'HTTPS_GROUPED_VHOST_FRONTEND_HEAD',
    {
      name: cleanName(vhost),
      sslCerts: crtWords(certs.size > 0 ? certs : operatorCerts(opts)),
      bindOpts: [...bindOptions].map((o) => ` ${o}`).join(' '),
    },
    opts,
    dependsOnVersion,
  );
}

/**
 * Throws when the service's certificate or bind options would make a bind line it shares with other
 * apps under --group-https-by-vhost pass HAProxy's 64 words: HAProxy would refuse the whole config
 * (40 apps with their own SSL_CERT on one vhost did), so this port is left out and the others served.
 * Only a line this service lengthens is rendered again.
 */
function overflowGroupedBind(
  grouped: ReadonlyMap<string, GroupedVhost>,
  shared: Shared,
  templates: TemplateSet,
  opts: RenderOptions,
): void {
  for (const [vhost, g] of grouped) {
    const before = shared.grouped.get(vhost);
    const certs = new Set([...(before?.certs ?? []), ...g.certs]);
    const bindOptions = new Set([...(before?.bindOptions ?? []), ...g.bindOptions]);
    const addsCert = certs.size > (before?.certs.size ?? 0);
    if (!addsCert && bindOptions.size === (before?.bindOptions.size ?? 0)) continue;
    const long = overlongLine(groupedFrontendHead(vhost, certs, bindOptions, templates, opts, shared.dependsOnVersion));
    if (long === null) continue;
    // Alone on its vhost, the app's own bind options are what is too long (its certificate is two words).
    const blamesCert = addsCert && (before !== undefined || g.bindOptions.size === 0);
    const label = blamesCert ? 'HAPROXY_{n}_SSL_CERT' : 'HAPROXY_{n}_BIND_OPTIONS';
    const line = before === undefined ? 'its own' : 'the one it shares with other apps';
    throw new ServiceTemplateError(
      label,
      `${blamesCert ? 'its certificate' : 'its bind options'} would make the bind line of vhost ${JSON.stringify(vhost)} under --group-https-by-vhost (${line}) ${long.words} words long (HAProxy reads at most 64 a line and refuses the whole config)`,
    );
  }
}

function mergeGrouped(into: Map<string, GroupedVhost>, from: ReadonlyMap<string, GroupedVhost>): void {
  for (const [vhost, g] of from) {
    const existing = into.get(vhost);
    if (existing === undefined) {
      // A copy: later services add to it, and `g` may be cached for the next render.
      into.set(vhost, { entries: [...g.entries], certs: new Set(g.certs), bindOptions: new Set(g.bindOptions) });
      continue;
    }
    existing.entries.push(...g.entries);
    for (const c of g.certs) existing.certs.add(c);
    for (const o of g.bindOptions) existing.bindOptions.add(o);
  }
}

function healthContext(hc: HealthCheck, port: number | null): TemplateContext {
  return {
    // marathon-lb passes Marathon's health check dict too (`{healthCheck[path]}`), defaults filled in.
    healthCheck: {
      protocol: hc.protocol,
      path: hc.path,
      portIndex: hc.portIndex,
      port: hc.port,
      gracePeriodSeconds: hc.gracePeriodSeconds,
      intervalSeconds: hc.intervalSeconds,
      timeoutSeconds: hc.timeoutSeconds,
      maxConsecutiveFailures: hc.maxConsecutiveFailures,
    },
    healthCheckPortIndex: hc.portIndex,
    healthCheckPort: port,
    healthCheckProtocol: hc.protocol,
    healthCheckPath: hc.path,
    healthCheckTimeoutSeconds: hc.timeoutSeconds,
    healthCheckIntervalSeconds: hc.intervalSeconds,
    healthCheckGracePeriodSeconds: hc.gracePeriodSeconds,
    healthCheckMaxConsecutiveFailures: hc.maxConsecutiveFailures,
    healthCheckFalls: hc.maxConsecutiveFailures + 1,
    healthCheckPortOptions: port ? ` port ${port}` : '',
  };
}

// Template names as constants: a name built per service would be hashed anew at each lookup.
const TCP_CHECK_TEMPLATES = {
  backend: 'BACKEND_TCP_HEALTHCHECK_OPTIONS',
  server: 'BACKEND_SERVER_TCP_HEALTHCHECK_OPTIONS',
} as const;
const HTTP_CHECK_TEMPLATES = {
  backend: 'BACKEND_HTTP_HEALTHCHECK_OPTIONS',
  server: 'BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS',
} as const;

function renderServers(svc: Service, r: ServiceRenderer, out: string[]): void {
  const hc = svc.healthCheck;
  const tcpCheck = hc !== null && (svc.mode === 'tcp' || hc.protocol === 'TCP' || hc.protocol === 'MESOS_TCP');
  const names = tcpCheck ? TCP_CHECK_TEMPLATES : HTTP_CHECK_TEMPLATES;
  if (hc !== null && svc.servers.length > 0) r.renderInto(names.backend, healthContext(hc, svc.backendCheckPort), out);
  // Servers of a backend usually share one check port: render their options once per port.
  let lastPort: number | null | undefined;
  let lastOptions = '';
  let byPort: Map<number | null, string> | undefined;
  const serverCheckOptions = (port: number | null): string => {
    if (hc === null) return '';
    if (port === lastPort) return lastOptions;
    let o = byPort?.get(port);
    if (o === undefined) {
      o = r.render(names.server, healthContext(hc, port));
      (byPort ??= new Map()).set(port, o);
    }
    lastPort = port;
    return (lastOptions = o);
  };
  // One context, refilled for each server: the template reads it and keeps nothing.
  const ctx: Record<string, TemplateValue> = {
    host: '',
    host_ipv4: '',
    port: 0,
    serverName: '',
    serverId: 0,
    cookieOptions: '',
    healthCheckOptions: '',
    otherOptions: '',
  };
  for (const s of svc.servers) {
    ctx['host'] = s.host;
    ctx['host_ipv4'] = s.ip;
    ctx['port'] = s.port;
    ctx['serverName'] = s.name;
    ctx['serverId'] = s.id;
    ctx['cookieOptions'] = svc.sticky ? ` check cookie ${cookieValue(s.name)}` : '';
    ctx['healthCheckOptions'] = serverCheckOptions(s.healthCheckPort);
    ctx['otherOptions'] = s.draining ? ' disabled' : '';
    r.renderInto('BACKEND_SERVER_OPTIONS', ctx, out);
  }
}
