import { err, ok, type Result } from '../result';

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/**
 * Parses `user:pass` (the password may contain ':'); for a credential file, pass its first line.
 * Here, without the HTTP client: the settings read it too, to keep the password out of HAProxy's
 * environment, and load no network code for a `--dry`.
 */
export function parseBasicCredentials(text: string, source: string): Result<BasicCredentials> {
  const line = text.split(/\r?\n/, 1)[0] ?? '';
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
