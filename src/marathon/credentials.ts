import { err, ok, type Result } from '../result';

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/** A credential file's first line, its line break left out (as marathon-lb's readline().rstrip). */
const firstLine = (text: string): string => text.split(/\r?\n/, 1)[0] ?? '';

/**
 * Parses `user:pass` (the password may contain ':'); for a credential file, pass its first line.
 * Here, without the HTTP client: the settings read it too, to keep the password out of HAProxy's
 * environment, and load no network code for a `--dry`.
 */
export function parseBasicCredentials(text: string, source: string): Result<BasicCredentials> {
  const line = firstLine(text);
  const i = line.indexOf(':');
  if (i <= 0) return err(`${source}: expected credentials as user:pass`);
  return ok({ user: line.slice(0, i), password: line.slice(i + 1) });
}

/**
 * A URL as it may be shown: without the user and password it may hold (http://user:password@host).
 * Everything up to its last `@` goes, so a password that breaks the URL (a raw `/` or `@` in it) does too.
 */
export function withoutCredentials(raw: string): string {
  // Up to the last `@`, after the scheme if there is one: `user:password@host` written without a
  // scheme was shown whole in the error that said so (found by an audit).
  const shown = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/|\/\/)?.*@/is, (_all, prefix: string | undefined) => prefix ?? '');
  if (shown !== raw) return shown;
  // No `@`: a URL cut inside its password, as a list split on a comma or a blank in it (`MLB_MARATHON`)
  // leaves `http://user:pass`, shows `http://user:***`. A port (digits) or an IPv6 host stays.
  return raw.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/|\/\/)?(?!\[)[^/?#:]*:)(?!\d*(?:[/?#]|$)).*/is, '$1***');
}

/** Which Marathon credentials a command uses (chosenCredentials). */
export type ChosenCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly credentials: BasicCredentials }
  | { readonly kind: 'dcos'; readonly text: string };

/**
 * marathon-lb's order (common.py get_marathon_auth_params, for marathon-lb and zdd): the credential
 * file's first line, else --auth-credentials, else the DC/OS service account. A file whose first
 * line is empty means no authentication, and nothing after it is tried. `readFile` reads the file
 * named by --marathon-auth-credential-file.
 */
export function chosenCredentials(
  flags: {
    readonly file: string | undefined;
    readonly basic: string | undefined;
    readonly dcos: string | undefined;
  },
  readFile: (file: string) => Result<string>,
): Result<ChosenCredentials> {
  if (flags.file !== undefined) {
    const read = readFile(flags.file);
    if (!read.ok) return read;
    if (firstLine(read.value) === '') return ok({ kind: 'none' });
    const creds = parseBasicCredentials(read.value, `--marathon-auth-credential-file ${flags.file}`);
    return creds.ok ? ok({ kind: 'basic', credentials: creds.value }) : creds;
  }
  if (flags.basic !== undefined) {
    const creds = parseBasicCredentials(flags.basic, '--auth-credentials');
    return creds.ok ? ok({ kind: 'basic', credentials: creds.value }) : creds;
  }
  return ok(flags.dcos === undefined ? { kind: 'none' } : { kind: 'dcos', text: flags.dcos });
}
