import { cleanName } from '../model/serverIds';
import type { Service } from '../model/types';

/** A vhost that is a plain DNS name (lowercase letters, digits, hyphens, dots), what clients send. */
const PLAIN_DNS_NAME = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/;

interface Claim {
  readonly vhost: string;
  readonly appId: string;
}

/**
 * The section names --group-https-by-vhost gives its vhosts. Each vhost gets a backend, a frontend
 * and an abstract socket named after it, cleaned (`good.example.com` → good_example_com). Two vhosts
 * that clean alike (`good:example:com`), or a vhost that cleans to an app's backend name
 * (`web_10001`), to a global template's section (`marathon_https_in`) or to a frontend a
 * FRONTEND_HEAD label names, gave HAProxy two sections of one name, and it refused the whole config
 * (found by audits). marathon-lb printed them so. Now the port that would reuse a name is left out:
 * - an app's own backend and the global sections are never taken (they are not left out for this);
 * - a plain DNS name keeps its name whatever the order: no two of them clean alike, and another
 *   app's lookalike (`good_example_com`, sorted first) cannot take a real vhost's routing away;
 * - among other vhosts and labelled frontends, the first to take a name keeps it.
 */
export class GroupedSectionNames {
  /** Names no vhost may take: each service's backend (and frontend), each global section. */
  private readonly reserved = new Map<string, string>();
  /** Names of the plain DNS vhosts, taken before any other vhost or label asks. */
  private readonly plain = new Map<string, Claim>();
  /** Names other vhosts took, in the order they were rendered. */
  private readonly claimed = new Map<string, Claim>();

  constructor(services: readonly Service[], globalSections: ReadonlyMap<string, string>) {
    for (const [name, template] of globalSections) this.reserved.set(name, `a section of the ${template} template`);
    for (const svc of services)
      if (!this.reserved.has(svc.backend)) this.reserved.set(svc.backend, `the backend of app ${svc.appId}`);
    for (const svc of services) {
      if (!svc.hostname) continue;
      for (const vhost of svc.hostname.split(',')) {
        const name = cleanName(vhost);
        if (PLAIN_DNS_NAME.test(vhost) && !this.reserved.has(name) && !this.plain.has(name))
          this.plain.set(name, { vhost, appId: svc.appId });
      }
    }
  }

  /** The names plain DNS vhosts hold: no FRONTEND_HEAD label may name a frontend so. */
  plainNames(): Iterable<string> {
    return this.plain.keys();
  }

  /**
   * Why the `vhosts` of `svc` cannot have their grouped sections, or null. `frontendNames`: the
   * frontends named so far (global ones, labelled ones, grouped vhosts').
   */
  whyNot(svc: Service, vhosts: Iterable<string>, frontendNames: ReadonlySet<string>): string | null {
    const own = new Map<string, Claim>(); // its vhosts may clash among themselves (`a.com,a:com`)
    for (const vhost of vhosts) {
      const name = cleanName(vhost);
      const first = this.plain.get(name) ?? this.claimed.get(name) ?? own.get(name);
      const other =
        this.reserved.get(name) ??
        (first !== undefined
          ? first.vhost === vhost
            ? undefined
            : `the sections of vhost ${JSON.stringify(first.vhost)} of app ${first.appId}`
          : frontendNames.has(name)
            ? 'a frontend a FRONTEND_HEAD label names'
            : undefined);
      if (other !== undefined)
        return `vhost ${JSON.stringify(vhost)} would name its --group-https-by-vhost sections ${name}, the name of ${other}; HAProxy refuses two sections of one name`;
      own.set(name, { vhost, appId: svc.appId });
    }
    return null;
  }

  /** `svc` is served with these vhosts: their names are taken, as frontends too. */
  claim(svc: Service, vhosts: Iterable<string>, frontendNames: Set<string>): void {
    for (const vhost of vhosts) {
      const name = cleanName(vhost);
      if (!this.claimed.has(name)) this.claimed.set(name, { vhost, appId: svc.appId });
      frontendNames.add(name);
    }
  }
}
