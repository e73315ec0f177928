/**
 * The environment HAProxy is started with: the controller's own, minus every secret. HAProxy
 * expands `${VAR}` anywhere in its config, and app owners write part of that config (template
 * labels), so whatever HAProxy can read, an app owner can send to anonymous clients.
 *
 * Left out: marathon-lb's auth-related `MLB_*` variables (Marathon credentials, the DC/OS key, the
 * admin token, credential and key files), DC/OS' and the sidecar image's secret variables
 * (DCOS_SERVICE_ACCOUNT_CREDENTIAL, MARATHON_USER/MARATHON_PASSWORD, HAPROXY_SSL_CERT*: PEM with
 * private keys), any variable whose name says it is a secret (…_PASSWORD, …_TOKEN, …_SECRET…),
 * any value holding a PEM private key, and any value equal to a secret the controller holds.
 * Everything else (HOST, PORT0, an operator's own variables) stays for operators' templates.
 */

/** Name segments (split on `_`) that make an `MLB_*` variable a secret. */
const MLB_SECRET = new Set(['AUTH', 'CREDENTIAL', 'CREDENTIALS', 'TOKEN', 'SECRET', 'PASSWORD', 'PASSWD', 'PASS', 'KEY', 'PRIVATE']);
/** Name segments that make any variable a secret. */
const ANY_SECRET = new Set(['CREDENTIAL', 'CREDENTIALS', 'TOKEN', 'SECRET', 'PASSWORD', 'PASSWD', 'PRIVATE', 'APIKEY']);
const NAMED = new Set(['DCOS_SERVICE_ACCOUNT_CREDENTIAL', 'MARATHON_USER', 'MARATHON_PASSWORD']);
const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** Why `name=value` must not reach HAProxy, or undefined when it may. */
export function secretReason(name: string, value: string, secrets: ReadonlySet<string>): string | undefined {
  const upper = name.toUpperCase();
  const segments = upper.split('_');
  if (NAMED.has(upper)) return 'a controller credential';
  if (upper.startsWith('MLB_') && segments.some((s) => MLB_SECRET.has(s))) return 'an auth-related marathon-lb setting';
  if (/^HAPROXY_SSL_CERT\d*$/.test(upper)) return 'a certificate with its private key';
  if (segments.some((s) => ANY_SECRET.has(s)) || upper.endsWith('_KEY')) return 'named as a secret';
  if (PEM_KEY.test(value)) return 'holds a private key';
  if (secrets.has(value.trim())) return 'holds a controller secret';
  return undefined;
}

/**
 * `env` without the secrets. `secrets` are values the controller holds (credentials from flags or
 * files, the admin token): a variable carrying one of them is dropped whatever its name.
 */
export function haproxyEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  secrets: ReadonlyArray<string | undefined>,
): { readonly env: Record<string, string>; readonly dropped: readonly string[] } {
  const held = new Set(secrets.flatMap((s) => (s === undefined || s.trim().length < 4 ? [] : [s.trim()])));
  const out: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (secretReason(name, value, held) === undefined) out[name] = value;
    else dropped.push(name);
  }
  return { env: out, dropped: dropped.sort() };
}
