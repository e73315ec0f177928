/**
 * The environment HAProxy is started with: the controller's own, minus every secret. HAProxy
 * expands `${VAR}` anywhere in its config, and app owners write part of that config (template
 * labels), so whatever HAProxy can read, an app owner can send to anonymous clients.
 *
 * Left out:
 * - every `MLB_*` variable: marathon-lb's own settings, among them the Marathon credentials, the
 *   DC/OS key and the admin token. Upstream had none, so no template relies on them; and a flag
 *   changed between two runs then does not change HAProxy's environment (a master left running is
 *   adopted only when its environment is the one we would start it with, see takeover.ts);
 * - DC/OS' and the sidecar image's secrets: DCOS_SERVICE_ACCOUNT_CREDENTIAL, MARATHON_USER and
 *   MARATHON_PASSWORD, HAPROXY_SSL_CERT* (PEM with private keys);
 * - any variable whose name says it is a secret (…_PASSWORD, …_TOKEN, …_SECRET…, …_KEY), any value
 *   holding a PEM private key or a URL with a password (`http://user:password@host`), any value equal
 *   to a secret the controller holds, and any value holding one of 8 characters or more.
 * Everything else (HOST, PORT0, an operator's own variables) stays for operators' templates.
 */

/** Name segments that make any variable a secret. */
const ANY_SECRET = new Set(['CREDENTIAL', 'CREDENTIALS', 'TOKEN', 'SECRET', 'PASSWORD', 'PASSWD', 'PRIVATE', 'APIKEY']);
const NAMED = new Set(['DCOS_SERVICE_ACCOUNT_CREDENTIAL', 'MARATHON_USER', 'MARATHON_PASSWORD']);
const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/i;
/** A held secret this long is looked for inside values too; shorter ones only as whole values. */
const FOUND_INSIDE_FROM = 8;

/** Why `name=value` must not reach HAProxy, or undefined when it may. */
function secretReason(name: string, value: string, secrets: ReadonlySet<string>): string | undefined {
  const upper = name.toUpperCase();
  const segments = upper.split('_');
  if (NAMED.has(upper)) return 'a controller credential';
  if (upper.startsWith('MLB_')) return "a marathon-lb setting (the controller's, not HAProxy's)";
  if (/^HAPROXY_SSL_CERT\d*$/.test(upper)) return 'a certificate with its private key';
  if (segments.some((s) => ANY_SECRET.has(s)) || upper.endsWith('_KEY')) return 'named as a secret';
  if (PEM_KEY.test(value)) return 'holds a private key';
  if (URL_WITH_PASSWORD.test(value)) return 'holds a URL with a password';
  if (secrets.has(value.trim())) return 'holds a controller secret';
  for (const s of secrets) if (s.length >= FOUND_INSIDE_FROM && value.includes(s)) return 'holds a controller secret';
  return undefined;
}

/** This process's environment as a helper process should get it: without the secrets named above. */
export const environmentWithoutSecrets = (): Record<string, string> => haproxyEnvironment(process.env, []).env;

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
