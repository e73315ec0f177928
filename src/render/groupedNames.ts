import { cleanName } from '../model/serverIds';
import type { Service } from '../model/types';

/**
 * The section names --group-https-by-vhost gives its vhosts. Each vhost gets a backend, a frontend
 * and an abstract socket named after it, cleaned (`good.example.com` → good_example_com). Two vhosts
 * that clean alike (`good:example:com`), or a vhost that cleans to an app's backend name
 * (`web_10001`) or to a global template's section (`marathon_https_in`), gave HAProxy two sections
 * of one name, and it refused the whole config (found by an audit). marathon-lb printed them so.
 * The first vhost to take a name keeps it, and a later service port that would reuse it is left out.
 * An app's own backend name is always taken, whatever the order, since it is never left out for this.
 */
export class GroupedSectionNames {
  /** Names no vhost may take: each service's backend (and frontend), each global section. */
  private readonly reserved = new Map<string, string>();
  /** Names vhosts took, with the vhost and app that took them. */
  private readonly claimed = new Map<string, { readonly vhost: string; readonly appId: string }>();

  constructor(services: readonly Service[], globalSections: ReadonlyMap<string, string>) {
    for (const [name, template] of globalSections) this.reserved.set(name, `a section of the ${template} template`);
    for (const svc of services)
      if (!this.reserved.has(svc.backend)) this.reserved.set(svc.backend, `the backend of app ${svc.appId}`);
  }

  /** Why `vhosts` cannot have their grouped sections, or null. */
  whyNot(vhosts: Iterable<string>): string | null {
    for (const vhost of vhosts) {
      const name = cleanName(vhost);
      const owner = this.reserved.get(name);
      const claim = this.claimed.get(name);
      const other =
        owner !== undefined
          ? owner
          : claim !== undefined && claim.vhost !== vhost
            ? `the sections of vhost ${JSON.stringify(claim.vhost)} of app ${claim.appId}`
            : undefined;
      if (other !== undefined)
        return `vhost ${JSON.stringify(vhost)} would name its --group-https-by-vhost sections ${name}, the name of ${other}; HAProxy refuses two sections of one name`;
    }
    return null;
  }

  claim(svc: Service, vhosts: Iterable<string>): void {
    for (const vhost of vhosts) {
      const name = cleanName(vhost);
      if (!this.claimed.has(name)) this.claimed.set(name, { vhost, appId: svc.appId });
    }
  }
}
