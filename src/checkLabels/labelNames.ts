/**
 * Labels shaped like marathon-lb's per-port ones that it reads for no port. marathon-lb looks up
 * `HAPROXY_{i}_<NAME>` for each port i of an app and ignores every other key without a word, so a
 * misspelled name, an index written `00` or one past the app's ports changes nothing, and the app
 * owner cannot see why. check-labels says so. Pure.
 */
import { TEMPLATE_LABEL_NAMES } from '../templates/catalog';

/** marathon-lb's per-port labels that are not templates (config.py's labels with perServicePort). */
const PORT_SETTING_NAMES: ReadonlySet<string> = new Set([
  'AUTH',
  'VHOST',
  'GROUP',
  'PATH',
  'STICKY',
  'ENABLED',
  'REDIRECT_TO_HTTPS',
  'USE_HSTS',
  'SSL_CERT',
  'BIND_OPTIONS',
  'BIND_ADDR',
  'PORT',
  'MODE',
  'BALANCE',
  'HTTP_BACKEND_PROXYPASS_PATH',
  'HTTP_BACKEND_REVPROXY_PATH',
  'HTTP_BACKEND_REDIR',
  'BACKEND_WEIGHT',
  'BACKEND_NETWORK_ALLOWED_ACL',
  'BACKEND_HEALTHCHECK_PORT_INDEX',
]);

/** marathon-lb's labels of a whole app (`HAPROXY_<NAME>`, no port index). */
const APP_LABEL_NAMES: ReadonlySet<string> = new Set([
  'GROUP',
  'DEPLOYMENT_GROUP',
  'DEPLOYMENT_ALT_PORT',
  'DEPLOYMENT_COLOUR',
  'DEPLOYMENT_STARTED_AT',
  'DEPLOYMENT_TARGET_INSTANCES',
  'DEPLOYMENT_NEW_INSTANCES',
]);

const isPortLabelName = (name: string): boolean => PORT_SETTING_NAMES.has(name) || TEMPLATE_LABEL_NAMES.has(name);

/** One note for each `HAPROXY_…` label of the app that no port of its `portCount` reads. */
export function portLabelNameNotes(labels: Readonly<Record<string, unknown>>, portCount: number): string[] {
  const notes: string[] = [];
  for (const key of Object.keys(labels).sort()) {
    if (!key.startsWith('HAPROXY_')) continue;
    const m = /^HAPROXY_(\d+)_(.+)$/s.exec(key);
    if (m === null) {
      const name = key.slice('HAPROXY_'.length);
      if (!APP_LABEL_NAMES.has(name) && isPortLabelName(name))
        notes.push(`label ${key} is read for no port: marathon-lb reads HAPROXY_0_${name} for the first one`);
      continue;
    }
    const [, digits, name] = m as unknown as [string, string, string];
    const index = Number(digits);
    if (!isPortLabelName(name))
      notes.push(
        `label ${key}: marathon-lb has no per-port label ${name} (misspelled?), so it changes nothing (--longhelp lists them)`,
      );
    else if (digits.length > 1 && digits.startsWith('0'))
      notes.push(`label ${key} names no port: marathon-lb reads HAPROXY_${index}_${name}, without leading zeros`);
    else if (index >= portCount)
      notes.push(
        `label ${key} is for port index ${index}, but the app has ${portCount} service port(s): it changes nothing`,
      );
  }
  return notes;
}
