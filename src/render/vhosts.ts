import type { Service } from '../model/types';
import { cleanName } from '../model/serverIds';
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
export function vhostAcls(svc: Service, r: ServiceRenderer, shared: VhostShared): VhostResult {
  const backend = svc.backend;
  const hostname = svc.hostname!;
  const grouped = new Map<string, GroupedVhost>();
  const domainMap: [string, string][] = [];
  let weight = svc.backendWeight;
  let http = '';
  let https = '';
  let { mapHttpDone, mapHttpsDone } = shared;
  const { haproxyMap, haproxyDir } = shared;
  const realm = svc.auth?.realm;
  const appId = svc.appId;
  const addMap = (vhost: string): void => {
    if (!domainMap.some(([h, b]) => h === vhost && b === backend)) domainMap.push([vhost, backend]);
  };

  if (hostname.includes(',')) {
    const vhosts = hostname.split(',');
    const acl = `${cleanName(vhosts[0]!)}_${appId.slice(1).replace(/\//g, '_')}`;
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
      const g = groupedFor(grouped, vhost);
      g.entries.push([weight, head]);
      if (svc.sslCert !== null) g.certs.add(svc.sslCert);
      if (svc.bindOptions !== null) g.bindOptions.add(svc.bindOptions);

      if (haproxyMap && svc.path === null && realm === undefined && !svc.redirectHttpToHttps) {
        if (!mapHttpDone) {
          weight = -1;
          http += r.render('MAP_HTTP_FRONTEND_ACL_ONLY', { haproxy_dir: haproxyDir }, 'HTTP_FRONTEND_ACL_ONLY');
          mapHttpDone = true;
        }
        addMap(vhost);
      } else {
        http += r.render('HTTP_FRONTEND_ACL_ONLY', { cleanedUpHostname: acl, hostname: vhost });
      }

      let fragment: string | null = null;
      if (svc.path !== null) {
        fragment =
          realm !== undefined
            ? r.render('HTTPS_FRONTEND_ACL_WITH_AUTH_AND_PATH', {
                cleanedUpHostname: acl,
                hostname: vhost,
                appId,
                realm,
                backend,
              })
            : r.render('HTTPS_FRONTEND_ACL_WITH_PATH', { cleanedUpHostname: acl, hostname: vhost, appId, backend });
      } else if (realm !== undefined) {
        fragment = r.render('HTTPS_FRONTEND_ACL_WITH_AUTH', {
          cleanedUpHostname: acl,
          hostname: vhost,
          appId,
          realm,
          backend,
        });
      } else if (haproxyMap) {
        if (!mapHttpsDone) {
          weight = -1;
          fragment = r.render(
            'MAP_HTTPS_FRONTEND_ACL',
            { hostname: vhost, haproxy_dir: haproxyDir },
            'HTTPS_FRONTEND_ACL',
          );
          mapHttpsDone = true;
        }
        addMap(vhost);
      } else {
        fragment = r.render('HTTPS_FRONTEND_ACL', { cleanedUpHostname: acl, hostname: vhost, appId, backend });
      }
      if (fragment !== null) {
        https += fragment;
        g.entries.push([weight, fragment]);
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
    return { weight, http, https, grouped, mapHttpDone, mapHttpsDone, domainMap };
  }

  // A single host name.
  const acl = `${cleanName(hostname)}_${appId.slice(1).replace(/\//g, '_')}`;
  // Upstream's defaultdict creates a vhost's entry only when something is added to it.
  if (svc.sslCert !== null) groupedFor(grouped, hostname).certs.add(svc.sslCert);
  if (svc.bindOptions !== null) groupedFor(grouped, hostname).bindOptions.add(svc.bindOptions);
  const addHttps = (fragment: string): void => {
    https += fragment;
    groupedFor(grouped, hostname).entries.push([weight, fragment]);
  };

  if (svc.path !== null) {
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
    } else if (realm !== undefined) {
      http += r.render('HTTP_FRONTEND_ACL_WITH_AUTH_AND_PATH', {
        cleanedUpHostname: acl,
        hostname,
        path: svc.path,
        appId,
        realm,
        backend,
      });
    } else {
      http += r.render('HTTP_FRONTEND_ACL_WITH_PATH', {
        cleanedUpHostname: acl,
        hostname,
        path: svc.path,
        appId,
        backend,
      });
    }
    addHttps(r.render('HTTPS_FRONTEND_ACL_ONLY_WITH_PATH', { path: svc.path, backend }));
    addHttps(
      realm !== undefined
        ? r.render('HTTPS_FRONTEND_ACL_WITH_AUTH_AND_PATH', {
            cleanedUpHostname: acl,
            hostname,
            path: svc.path,
            appId,
            realm,
            backend,
          })
        : r.render('HTTPS_FRONTEND_ACL_WITH_PATH', { cleanedUpHostname: acl, hostname, appId, backend }),
    );
    return { weight, http, https, grouped, mapHttpDone, mapHttpsDone, domainMap };
  }

  if (svc.redirectHttpToHttps) {
    http += r.render('HTTP_FRONTEND_ACL', { cleanedUpHostname: acl, hostname, backend });
    http += r.render('BACKEND_REDIRECT_HTTP_TO_HTTPS', { bindAddr: svc.bindAddr, cleanedUpHostname: acl });
  } else if (realm !== undefined) {
    http += r.render('HTTP_FRONTEND_ACL_WITH_AUTH', { cleanedUpHostname: acl, hostname, appId, realm, backend });
  } else if (haproxyMap) {
    if (!mapHttpDone) {
      weight = -1;
      http += r.render('MAP_HTTP_FRONTEND_ACL', { haproxy_dir: haproxyDir }, 'HTTP_FRONTEND_ACL');
      mapHttpDone = true;
    }
    addMap(hostname);
  } else {
    http += r.render('HTTP_FRONTEND_ACL', { cleanedUpHostname: acl, hostname, appId, backend });
  }

  if (realm !== undefined) {
    addHttps(r.render('HTTPS_FRONTEND_ACL_WITH_AUTH', { cleanedUpHostname: acl, hostname, appId, realm, backend }));
  } else if (haproxyMap) {
    if (!mapHttpsDone) {
      weight = -1;
      addHttps(r.render('MAP_HTTPS_FRONTEND_ACL', { hostname, haproxy_dir: haproxyDir }, 'HTTPS_FRONTEND_ACL'));
      mapHttpsDone = true;
    }
    addMap(hostname);
  } else {
    addHttps(r.render('HTTPS_FRONTEND_ACL', { cleanedUpHostname: acl, hostname, appId, backend }));
  }
  return { weight, http, https, grouped, mapHttpDone, mapHttpsDone, domainMap };
}
