import { withoutCredentials } from '../marathon/credentials';

/** The flags whose value is a secret (marathon-lb's and zdd's). */
const SECRET_FLAGS = ['--auth-credentials', '--dcos-auth-credentials', '--admin-token'];

/**
 * Whether `word` names a secret flag: as written, in camelCase (yargs takes `--authCredentials` as
 * well), or by any prefix argparse might take (`--au`, `--a`).
 */
function isSecretFlag(word: string): boolean {
  const dashed = word.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return dashed.length >= 3 && SECRET_FLAGS.some((f) => f.startsWith(dashed));
}

/**
 * The command line as `ps` should show it: the values of --auth-credentials, --dcos-auth-credentials
 * and --admin-token (any prefix of them), and a URL's `user:password@`, as ***. Null when nothing is
 * to be hidden. A process's arguments are anyone's to read (/proc/PID/cmdline); its title replaces
 * them there. Hiding more than the parser takes does no harm, less would.
 */
export function argvWithoutSecrets(argv: readonly string[]): string[] | null {
  let hidden = false;
  const shown = argv.map((a, i) => {
    const before = argv[i - 1];
    // Whatever follows such a flag but another long flag (`-5aB…` is a value the parser takes).
    if (before !== undefined && isSecretFlag(before) && !a.startsWith('--')) {
      hidden = true;
      return '***';
    }
    const eq = a.indexOf('=');
    if (eq > 0 && isSecretFlag(a.slice(0, eq))) {
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
