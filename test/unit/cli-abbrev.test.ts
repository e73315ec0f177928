import { expandAbbreviations } from '../../src/cli/abbrev';
import { parseArgs } from '../../src/cli/args';
import type { Options } from '../../src/cli/options';

function ok(argv: readonly string[], env: Record<string, string | undefined> = {}): Options {
  const r = parseArgs(argv, env);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r).slice(0, 300)}`);
  return r.value;
}

function error(argv: readonly string[]): string {
  const r = parseArgs(argv, {});
  if (r.ok || r.error.kind !== 'error') throw new Error(`expected error, got ${JSON.stringify(r).slice(0, 300)}`);
  return r.error.message;
}

describe('argparse-style abbreviations of long flags', () => {
  it('accepts the prefixes marathon-lb users script (--strict, --health, --dont-bind)', () => {
    const o = ok(['--group', 'external', '--strict', '--health', '--dont-bind']);
    expect(o.strictMode).toBe(true);
    expect(o.healthCheck).toBe(true);
    expect(o.dontBindHttpHttps).toBe(true);
  });

  it('expands prefixes of flags with values, in both --flag value and --flag=value forms', () => {
    const o = ok(['--group', 'external', '--haproxy-conf=/tmp/x.cfg', '--lru', '7', '--arch', '3']);
    expect(o.archiveVersions).toBe(3);
    expect(o.haproxyConfig).toBe('/tmp/x.cfg');
    expect(o.lruCacheCapacity).toBe(7);
  });

  it('an exact name wins over longer names it prefixes', () => {
    const o = ok(['--group', 'g', '--sse']);
    expect(o.sse).toBe(true);
    expect(o.sseIdleTimeout).toBe(ok(['--group', 'g']).sseIdleTimeout);
  });

  it('an ambiguous prefix is an error naming every candidate, as argparse words it', () => {
    expect(error(['--group', 'g', '--ss'])).toBe(
      'ambiguous option: --ss could match --sse, --sse-idle-timeout, --sse-max-event-bytes, --ssl-certs',
    );
    expect(error(['--gr', 'g'])).toBe('ambiguous option: --gr could match --group, --group-https-by-vhost');
    expect(error(['--group', 'g', '--sse-', '5'])).toBe(
      'ambiguous option: --sse- could match --sse-idle-timeout, --sse-max-event-bytes',
    );
  });

  // Found by a migration check: flags added here made prefixes marathon_lb.py read as one flag ambiguous.
  it("a prefix upstream's parser read as one of its flags still means that flag", () => {
    const o = ok(['--group', 'g', '--haproxy-m', '--co', 'true', '--re', '7', '--st']);
    expect(o.haproxyMap).toBe(true);
    expect(o.command).toBe('true');
    expect(o.reloadInterval).toBe(7);
    expect(o.strictMode).toBe(true);
  });

  it('an unknown flag is still unrecognized, and tokens after -- are left alone', () => {
    expect(error(['--group', 'g', '--nope'])).toBe('unrecognized arguments: --nope');
    expect(expandAbbreviations(['--gr', 'x', '--', '--str'], ['group', 'strict-mode'])).toEqual({
      ok: true,
      value: ['--group', 'x', '--', '--str'],
    });
  });

  it('covers yargs --no-<flag> forms and leaves short flags and environment variables as they are', () => {
    expect(ok(['--group', 'g', '--no-strict'], { MLB_STRICT_MODE: 'true' }).strictMode).toBe(false);
    expect(ok(['-H', '--group', 'g']).healthCheck).toBe(true);
    // MLB_STRICT is not an abbreviation of MLB_STRICT_MODE: only full names are read from the environment.
    expect(ok(['--group', 'g'], { MLB_STRICT: 'true' }).strictMode).toBe(false);
  });
});
