import type { Service } from '../model/types';
import type { ServiceRenderer } from './serviceRenderer';

/** What one service adds to the shared :80/:443 frontends (marathon-lb's generateHttpVhostAcl). */
export interface VhostFragments {
  readonly weight: number;
  readonly http: string;
  readonly https: string;
  /** For --group-https-by-vhost: per vhost, weighted ACL snippets, certificates and bind options. */
  readonly grouped: ReadonlyMap<string, GroupedVhost>;
}

export interface GroupedVhost {
  readonly entries: [number, string][];
  readonly certs: Set<string>;
  readonly bindOptions: Set<string>;
}

export interface VhostShared {
  /** Whether the single map-based use_backend lines were already emitted by an earlier service. */
  readonly mapHttpDone: boolean;
  readonly mapHttpsDone: boolean;
  readonly haproxyMap: boolean;
  readonly haproxyDir: string;
  /** --group-https-by-vhost: only then are the `grouped` fragments gathered (a Map and two Sets per vhost). */
  readonly groupHttpsByVhost: boolean;
  /** The service's `{cleanedUpHostname}`: marathon-lb's, unless that would widen another's ACLs (aclNames.ts). */
  readonly aclName: string;
}

export interface VhostResult extends VhostFragments {
  readonly mapHttpDone: boolean;
  readonly mapHttpsDone: boolean;
  readonly domainMap: readonly (readonly [string, string])[];
}

function groupedFor(grouped: Map<string, GroupedVhost>, vhost: string): GroupedVhost {
  let g = grouped.get(vhost);
  if (g === undefined) {
    g = { entries: [], certs: new Set(), bindOptions: new Set() };
    grouped.set(vhost, g);
  }
  return g;
}

/**
 * The vhost routing of one service, a faithful port of upstream's branches (single vhost vs comma
 * list, path, auth, redirect to https, map files). With maps, the first service that emits the map
 * lookup gets weight -1, which sorts it after weighted ACLs as upstream does.
 */
const NOT_GROUPED: ReadonlyMap<string, GroupedVhost> = new Map();

export function vhostAcls(svc: Service, r: ServiceRenderer, shared: VhostShared): VhostResult {
  const backend = svc.backend;
  const hostname = svc.hostname!;
  const grouped = shared.groupHttpsByVhost ? new Map<string, GroupedVhost>() : null;
  const group = (vhost: string): GroupedVhost | undefined =>
    grouped === null ? undefined : groupedFor(grouped, vhost);
  const domainMap: [string, string][] = [];
  let weight = svc.backendWeight;
  let http = '';
  let https = '';
  let { mapHttpDone, mapHttpsDone } = shared;
  const { haproxyMap, haproxyDir } = shared;
  const realm = svc.auth?.realm;
  const appId = svc.appId;
  // One map line per distinct vhost (all are this backend's): a Set, since a label may list tens of thousands.
  const mapped = new Set<string>();
  // A map line is a key and a value: names a label separates by blanks are one line each (an ACL
  // reads them as that many patterns; marathon-lb's one line made the second name part of the value).
  const addMap = (vhost: string): void => {
    for (const name of /[ \t]/.test(vhost) ? vhost.split(/[ \t]+/) : [vhost]) {
      if (name === '' || mapped.has(name)) continue;
      mapped.add(name);
      domainMap.push([name, backend]);
    }
  };
  const addHttps = (vhost: string, fragment: string): void => {
    https += fragment;
    group(vhost)?.entries.push([weight, fragment]);
  };
  // With --haproxy-map the first service to route by map emits the one lookup line (weight -1 sorts
  // it after the weighted ACLs); every vhost goes into the map file.
  const mapHttp = (vhost: string, name: string, labelName: string): void => {
    if (!mapHttpDone) {
      weight = -1;
      http += r.render(name, { haproxy_dir: haproxyDir }, labelName);
      mapHttpDone = true;
    }
    addMap(vhost);
  };
  const mapHttps = (vhost: string): void => {
    if (!mapHttpsDone) {
      weight = -1;
      addHttps(
        vhost,
        r.render('MAP_HTTPS_FRONTEND_ACL', { hostname: vhost, haproxy_dir: haproxyDir }, 'HTTPS_FRONTEND_ACL'),
      );
      mapHttpsDone = true;
    }
    addMap(vhost);
  };

  if (hostname.includes(',')) {
    const vhosts = hostname.split(',');
    const acl = shared.aclName;
    if (svc.path !== null) {
      if (realm !== undefined) {
        http += r.render('HTTP_FRONTEND_ACL_ONLY_WITH_PATH_AND_AUTH', {
          path: svc.path,
          cleanedUpHostname: acl,
          hostname: vhosts[0],
          realm,
          backend,
        });
        https += r.render('HTTPS_FRONTEND_ACL_ONLY_WITH_PATH', {
          path: svc.path,
          cleanedUpHostname: acl,
          hostname: vhosts[0],
          realm,
          backend,
        });
      } else {
        http += r.render('HTTP_FRONTEND_ACL_ONLY_WITH_PATH', { path: svc.path, backend });
        https += r.render('HTTPS_FRONTEND_ACL_ONLY_WITH_PATH', { path: svc.path, backend });
      }
    }
    const head = https;
    for (const vhost of vhosts) {
      const g = group(vhost);
      if (g !== undefined) {
        g.entries.push([weight, head]);
        if (svc.sslCert !== null) g.certs.add(svc.sslCert);
        if (svc.bindOptions !== null) g.bindOptions.add(svc.bindOptions);
      }

      if (haproxyMap && svc.path === null && realm === undefined && !svc.redirectHttpToHttps) {
        mapHttp(vhost, 'MAP_HTTP_FRONTEND_ACL_ONLY', 'HTTP_FRONTEND_ACL_ONLY');
      } else {
        http += r.render('HTTP_FRONTEND_ACL_ONLY', { cleanedUpHostname: acl, hostname: vhost });
      }

      if (svc.path !== null) {
        addHttps(
          vhost,
          realm !== undefined
            ? r.render('HTTPS_FRONTEND_ACL_WITH_AUTH_AND_PATH', {
                cleanedUpHostname: acl,
                hostname: vhost,
                appId,
                realm,
                backend,
              })
            : r.render('HTTPS_FRONTEND_ACL_WITH_PATH', { cleanedUpHostname: acl, hostname: vhost, appId, backend }),
        );
      } else if (realm !== undefined) {
        addHttps(
          vhost,
          r.render('HTTPS_FRONTEND_ACL_WITH_AUTH', { cleanedUpHostname: acl, hostname: vhost, appId, realm, backend }),
        );
      } else if (haproxyMap) {
        mapHttps(vhost);
      } else {
        addHttps(vhost, r.render('HTTPS_FRONTEND_ACL', { cleanedUpHostname: acl, hostname: vhost, appId, backend }));
      }
    }

    if (svc.redirectHttpToHttps) {
      http +=
        svc.path !== null
          ? r.render('BACKEND_REDIRECT_HTTP_TO_HTTPS_WITH_PATH', {
              bindAddr: svc.bindAddr,
              cleanedUpHostname: acl,
              backend,
            })
          : r.render('BACKEND_REDIRECT_HTTP_TO_HTTPS', { bindAddr: svc.bindAddr, cleanedUpHostname: acl });
    } else if (svc.path !== null) {
      http +=
        realm !== undefined
          ? r.render('HTTP_FRONTEND_ROUTING_ONLY_WITH_PATH_AND_AUTH', { cleanedUpHostname: acl, realm, backend })
          : r.render('HTTP_FRONTEND_ROUTING_ONLY_WITH_PATH', { cleanedUpHostname: acl, backend });
    } else if (realm !== undefined) {
      http += r.render('HTTP_FRONTEND_ROUTING_ONLY_WITH_AUTH', { cleanedUpHostname: acl, realm, backend });
    } else if (!haproxyMap) {
      http += r.render('HTTP_FRONTEND_ROUTING_ONLY', { cleanedUpHostname: acl, backend });
    }
    return { weight, http, https, grouped: grouped ?? NOT_GROUPED, mapHttpDone, mapHttpsDone, domainMap };
  }

  // A single host name.
  const acl = shared.aclName;
  // Upstream's defaultdict creates a vhost's entry only when something is added to it.
  if (svc.sslCert !== null) group(hostname)?.certs.add(svc.sslCert);
  if (svc.bindOptions !== null) group(hostname)?.bindOptions.add(svc.bindOptions);

  if (svc.path !== null) {
    // A path behind auth: the http and the https rule take the same placeholders.
    const authPath =
      realm === undefined ? null : { cleanedUpHostname: acl, hostname, path: svc.path, appId, realm, backend };
    if (svc.redirectHttpToHttps) {
      http += r.render('HTTP_FRONTEND_ACL_ONLY', { cleanedUpHostname: acl, hostname });
      http += r.render('HTTP_FRONTEND_ACL_ONLY_WITH_PATH', {
        cleanedUpHostname: acl,
        hostname,
        path: svc.path,
        backend,
      });
      http += r.render('BACKEND_REDIRECT_HTTP_TO_HTTPS_WITH_PATH', {
        bindAddr: svc.bindAddr,
        cleanedUpHostname: acl,
        backend,
      });
    } else if (authPath !== null) {
      http += r.render('HTTP_FRONTEND_ACL_WITH_AUTH_AND_PATH', authPath);
    } else {
      http += r.render('HTTP_FRONTEND_ACL_WITH_PATH', {
        cleanedUpHostname: acl,
        hostname,
        path: svc.path,
        appId,
        backend,
      });
    }
    addHttps(hostname, r.render('HTTPS_FRONTEND_ACL_ONLY_WITH_PATH', { path: svc.path, backend }));
    addHttps(
      hostname,
      authPath !== null
        ? r.render('HTTPS_FRONTEND_ACL_WITH_AUTH_AND_PATH', authPath)
        : r.render('HTTPS_FRONTEND_ACL_WITH_PATH', { cleanedUpHostname: acl, hostname, appId, backend }),
    );
    return { weight, http, https, grouped: grouped ?? NOT_GROUPED, mapHttpDone, mapHttpsDone, domainMap };
  }

  if (svc.redirectHttpToHttps) {
    http += r.render('HTTP_FRONTEND_ACL', { cleanedUpHostname: acl, hostname, backend });
    http += r.render('BACKEND_REDIRECT_HTTP_TO_HTTPS', { bindAddr: svc.bindAddr, cleanedUpHostname: acl });
  } else if (realm !== undefined) {
    http += r.render('HTTP_FRONTEND_ACL_WITH_AUTH', { cleanedUpHostname: acl, hostname, appId, realm, backend });
  } else if (haproxyMap) {
    mapHttp(hostname, 'MAP_HTTP_FRONTEND_ACL', 'HTTP_FRONTEND_ACL');
  } else {
    http += r.render('HTTP_FRONTEND_ACL', { cleanedUpHostname: acl, hostname, appId, backend });
  }

  if (realm !== undefined) {
    addHttps(
      hostname,
      r.render('HTTPS_FRONTEND_ACL_WITH_AUTH', { cleanedUpHostname: acl, hostname, appId, realm, backend }),
    );
  } else if (haproxyMap) {
    mapHttps(hostname);
  } else {
    addHttps(hostname, r.render('HTTPS_FRONTEND_ACL', { cleanedUpHostname: acl, hostname, appId, backend }));
  }
  return { weight, http, https, grouped: grouped ?? NOT_GROUPED, mapHttpDone, mapHttpsDone, domainMap };
}
