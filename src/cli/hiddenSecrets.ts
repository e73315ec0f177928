import { withoutCredentials } from '../marathon/credentials';

/** Flags whose value is a secret, as written or by any prefix argparse takes (`--auth`, `--admin-t`). */
const SECRET_FLAG = /^--(auth|auth-[a-z-]*|dcos|dcos-[a-z-]*|admin-t[a-z-]*)$/;

/**
 * The command line as `ps` should show it: the values of --auth-credentials, --dcos-auth-credentials
 * and --admin-token, and a URL's `user:password@`, as ***. Null when nothing is to be hidden. A
 * process's arguments are anyone's to read (/proc/PID/cmdline); its title replaces them there.
 */
export function argvWithoutSecrets(argv: readonly string[]): string[] | null {
  let hidden = false;
  const shown = argv.map((a, i) => {
    const before = argv[i - 1];
    const eq = a.indexOf('=');
    if (before !== undefined && SECRET_FLAG.test(before) && !a.startsWith('-')) {
      hidden = true;
      return '***';
    }
    if (eq > 0 && SECRET_FLAG.test(a.slice(0, eq))) {
      hidden = true;
      return `${a.slice(0, eq)}=***`;
    }
    const clean = /:\/\/[^/]*@/.test(a) ? withoutCredentials(a) : a;
    if (clean !== a) hidden = true;
    return clean;
  });
  return hidden ? shown : null;
}

/** Shows `argvWithoutSecrets` in place of the process's arguments, when there is anything to hide. */
export function hideSecretArguments(name: string, argv: readonly string[]): void {
  const shown = argvWithoutSecrets(argv);
  if (shown !== null) process.title = [name, ...shown].join(' ');
}
