import { cleanName } from '../model/serverIds';
import type { Service } from '../model/types';

/**
 * The names of the ACLs services define in the shared :80/:443/:9091 frontends, kept apart.
 *
 * marathon-lb names them after cleaned text: `host_<vhost>_<app>` and `auth_<vhost>_<app>` from the
 * first vhost with its non-alphanumerics made `_` and the app id with `/` made `_`, and
 * `app_<app id cleaned>`. Different apps can clean to the same name (vhost `admin.acl` with app
 * `/pair` and vhost `admin` with `/acl/pair` are both `admin_acl_pair`; `/acl/pair` and `/acl.pair`
 * are both `_acl_pair`), and so can two ports of one app on one vhost. HAProxy ORs the definitions of
 * an ACL that is declared twice, so the second one widened the first: a user of one app's userlist
 * passed the other's `http-request auth` (its `auth_` ACL named both userlists), and a request for
 * one app went to the other (`X-Marathon-App-Id: /acl.pair` matched `/acl/pair`'s ACL).
 *
 * The first service in the config's order keeps marathon-lb's name; a later one whose name would
 * widen it gets the name with its service port appended (and `_2`, `_3`, … should even that be
 * taken). Two definitions that mean the same stay shared, as marathon-lb prints them: the ports of
 * one app on the same vhosts, told apart by their path ACLs, when at most one of them asks for a login.
 */
/** A name for one service's ACLs; `own`: marathon-lb's, as it would print it (a cached rendering holds). */
export interface AclName {
  readonly name: string;
  readonly own: boolean;
}

export class AclNames {
  /** By vhost ACL name: the vhosts it matches, and whether an `auth_` ACL of that name exists. */
  private readonly vhost = new Map<string, { readonly hostname: string; auth: boolean }>();
  /** By app-id ACL name: the app id it matches. */
  private readonly appid = new Map<string, string>();

  /** The `{cleanedUpHostname}` of `svc` (which has a vhost) in this config. */
  vhostName(svc: Service): AclName {
    const base = vhostAclName(svc);
    const taken = this.vhost.get(base);
    if (taken === undefined || (taken.hostname === svc.hostname && !(taken.auth && svc.auth !== null)))
      return { name: base, own: true };
    return { name: this.free(`${base}_${svc.servicePort}`, (n) => this.vhost.has(n)), own: false };
  }

  /** The `{cleanedUpAppId}` of `svc` in this config. */
  appidName(svc: Service): AclName {
    const base = cleanName(svc.appId);
    const taken = this.appid.get(base);
    if (taken === undefined || taken === svc.appId) return { name: base, own: true };
    return { name: this.free(`${base}_${svc.servicePort}`, (n) => this.appid.has(n)), own: false };
  }

  /** Holds `name` (from vhostName) for `svc`, once it is in the config. */
  keepVhost(name: string, svc: Service): void {
    const taken = this.vhost.get(name);
    if (taken === undefined) this.vhost.set(name, { hostname: svc.hostname!, auth: svc.auth !== null });
    else taken.auth ||= svc.auth !== null;
  }

  /** Holds `name` (from appidName) for `svc`, once it is in the config. */
  keepAppid(name: string, svc: Service): void {
    if (!this.appid.has(name)) this.appid.set(name, svc.appId);
  }

  private free(name: string, taken: (n: string) => boolean): string {
    if (!taken(name)) return name;
    let k = 2;
    while (taken(`${name}_${k}`)) k++;
    return `${name}_${k}`;
  }
}

/** marathon-lb's `{cleanedUpHostname}`: the first vhost cleaned, then the app id without its slashes. */
const vhostAclName = (svc: Service): string =>
  `${cleanName(svc.hostname!.split(',')[0]!)}_${svc.appId.slice(1).replace(/\//g, '_')}`;
