/**
 * withServersOf (src/render/render.ts) against a full render: random payloads of the property corpus
 * (hostile labels, templates, flags) rendered with a live cache, then random server changes (servers
 * dropped, added, drained) on random services, as the task events replayed on a snapshot make. The
 * config patched in place must be the very text renderConfig gives for the changed services from
 * scratch; a change to anything but servers must make it give up (null).
 */
import fc from 'fast-check';
import { parseArgs } from '../../src/cli/args';
import { fileChecks } from '../../src/model/files';
import type { Server, Service } from '../../src/model/types';
import { RenderCache, renderConfig, withServersOf, type RenderedConfig } from '../../src/render/render';
import { renderSnapshot } from '../../src/render/snapshot';
import { modelOptions, renderOptions } from '../../src/wiring/parts';
import { caseArbitrary, flagArgs, type Case } from './appsArbitrary';
import { prepare, templates } from './configChecks';

const SEED = Number(process.env.MLB_PROPERTY_SEED ?? 20261202);
const t = templates();
const files = fileChecks();
const resolve = (h: string): string | undefined => (/^\d+\.\d+\.\d+\.\d+$/.test(h) ? h : '10.0.0.9');

function optionsOf(c: Case): { model: ReturnType<typeof modelOptions>; render: ReturnType<typeof renderOptions> } {
  const args = ['--dry', '--group', 'external', '--haproxy-config', '/dir/haproxy.cfg', '--haproxy-version', '2.6'];
  const parsed = parseArgs([...args, ...flagArgs(c.flags)], {});
  if (!parsed.ok) throw new Error(`bad flags ${flagArgs(c.flags).join(' ')}`);
  return { model: modelOptions(parsed.value, {}), render: renderOptions(parsed.value, {}) };
}

/** A payload rendered with a live cache, as the controller renders a snapshot; null base when it does not render. */
function renderedWithCache(c: Case): {
  readonly opts: ReturnType<typeof optionsOf>;
  readonly cache: RenderCache;
  readonly base: RenderedConfig | null;
} {
  const opts = optionsOf(c);
  const cache = new RenderCache();
  const snap = renderSnapshot(prepare(c.body, 0, '/nonexistent.pem'), t, opts, { resolve, files, renderCache: cache });
  return { opts, cache, base: snap.ok ? snap.value.rendered : null };
}

type Change = 'keep' | 'drop' | 'add' | 'drain';
const changes = fc.array(fc.constantFrom<Change>('keep', 'keep', 'drop', 'add', 'drain'), {
  minLength: 16,
  maxLength: 16,
});

/** `svc` with its servers changed as `how` says (a new server looks like its first one, elsewhere). */
function changed(svc: Service, how: Change, k: number): Service {
  const servers = svc.servers;
  switch (how) {
    case 'keep':
      return svc;
    case 'drop':
      return { ...svc, servers: servers.slice(1) };
    case 'drain':
      return { ...svc, servers: servers.map((s, i) => (i === 0 ? { ...s, draining: !s.draining } : s)) };
    case 'add': {
      const ip = `10.9.${k}.7`;
      const port = 40000 + k;
      const added: Server = {
        name: `${ip.replace(/\./g, '_')}_${port}`,
        id: 30000 + k,
        host: ip,
        ip,
        port,
        draining: false,
        healthCheckPort: servers[0]?.healthCheckPort ?? null,
      };
      return { ...svc, servers: [...servers, added] };
    }
  }
}

describe('withServersOf', () => {
  it('patches exactly what a full render gives when only servers changed', () => {
    let patched = 0;
    fc.assert(
      fc.property(caseArbitrary, changes, (c, hows) => {
        const { opts, cache, base } = renderedWithCache(c);
        if (base === null) return;
        const after = base.served.map((svc, i) => changed(svc, hows[i % hows.length]!, i));
        const got = withServersOf(base, after, t, opts.render, cache);
        const want = renderConfig(after, t, opts.render);
        expect(got).not.toBeNull();
        expect(got!.config).toBe(want.config);
        expect(got!.domainMap).toBe(want.domainMap);
        expect(got!.appMap).toBe(want.appMap);
        expect(got!.served).toEqual(want.served);
        expect(got!.problems).toEqual(want.problems);
        if (after.some((s, i) => s !== base.served[i])) patched++;
      }),
      { seed: SEED, numRuns: 400 },
    );
    expect(patched).toBeGreaterThan(50); // the runs did patch, not only give back the same config
  });

  it('gives up when more than servers changed, or the lists do not pair up', () => {
    fc.assert(
      fc.property(caseArbitrary, fc.constantFrom('balance', 'removed', 'added'), (c, how) => {
        const { opts, cache, base } = renderedWithCache(c);
        if (base === null || base.served.length === 0) return;
        const [first, ...rest] = base.served;
        const after =
          how === 'balance'
            ? [{ ...first!, balance: first!.balance === 'roundrobin' ? 'leastconn' : 'roundrobin' }, ...rest]
            : how === 'removed'
              ? rest
              : [...base.served, { ...first!, backend: `${first!.backend}_2` }];
        expect(withServersOf(base, after, t, opts.render, cache)).toBeNull();
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});
