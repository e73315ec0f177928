/** True when $CI is set to anything but "", "false" or "0". */
function inCi(): boolean {
  const ci = (process.env.CI ?? '').trim().toLowerCase();
  return ci !== '' && ci !== 'false' && ci !== '0';
}

export interface RequiredTool<T> {
  /** e.g. "haproxy" */
  readonly tool: string;
  /** The Debian package that brings it. */
  readonly aptPackage: string;
  /** Env var that names the binary explicitly, mentioned when it does not run. */
  readonly envVar: string;
  readonly find: () => T | undefined;
}

const requiredInCi = (t: { tool: string; aptPackage: string }): string =>
  `${t.tool} is required in CI: apt-get install -y ${t.aptPackage}`;

/**
 * describe() for suites that need an external tool. `fn` gets what `find` found. Without it the
 * suite fails when $CI is set (and not "false"/"0"), else it is skipped with a loud console warning.
 */
export function describeWithTool<T>(t: RequiredTool<T>, name: string, fn: (found: T) => void): void {
  const found = t.find();
  if (found !== undefined) {
    describe(name, () => fn(found));
    return;
  }
  const explicit = process.env[t.envVar];
  const where = explicit ? ` (${t.envVar}=${explicit} does not run)` : '';
  if (inCi()) {
    describe(name, () => {
      it(`has ${t.tool} installed`, () => {
        throw new Error(`${requiredInCi(t)}${where}`);
      });
    });
    return;
  }
  console.warn(
    `\n*** SKIPPING "${name}": ${t.tool} not found${where}. ` +
      `Install it (apt-get install -y ${t.aptPackage}) to run these tests; under CI=true they fail instead. ***\n`,
  );
  describe.skip(name, () => {
    it(`needs ${t.tool}, which is not installed here`, () => undefined);
  });
}
