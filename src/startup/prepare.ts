/**
 * What the service does once at start so that it runs the first time outside marathon-lb's image
 * (issue 10): marathon-lb's Lua from the bundled copies when /marathon-lb has none, a self-signed
 * certificate when the default one is missing, and a global maxconn the fd limit allows. Each
 * choice is logged. Not used by --dry, whose output stays marathon-lb's text.
 */
import * as path from 'node:path';
import { readFdEnvironment, type FdEnvironment } from '../haproxy/limits';
import { readBuiltinTemplates, readTemplateOverrides } from '../render/loadTemplates';
import { TemplateSet, type TemplateOverride } from '../render/templates';
import { ok, type Result } from '../result';
import type { FirstStartSettings } from '../wiring/parts';
import { ensureDefaultCertificate, type CertificateChoice, type MakeSelfSigned } from './certificate';
import { chooseLuaDir, rewriteLuaLoads, type Exists } from './luaDir';
import { fitMaxconn } from './maxconn';

export interface StartupLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface FirstStartInput {
  /** What the flags say, as wiring/parts.ts' firstStartSettings maps them. */
  readonly settings: FirstStartSettings;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** config/ of this installation (templates, lua). */
  readonly configDir: string;
  readonly logger: StartupLogger;
  readonly fdEnvironment?: () => Promise<FdEnvironment>;
  readonly makeCertificate?: MakeSelfSigned;
  readonly exists?: Exists;
}

/** The Lua dir and certificates chosen (wiring/parts.ts' withFirstStartChoices puts them in the options), and the templates. */
export type FirstStart = Result<{
  readonly luaDir: string;
  readonly sslCerts: string;
  readonly templates: TemplateSet;
}>;

export async function prepareFirstStart(input: FirstStartInput): Promise<FirstStart> {
  const { settings: s, logger } = input;
  const lua = chooseLuaDir(s.luaDir, path.join(input.configDir, 'lua'), input.exists);
  if (lua.note) logger.info(lua.note);

  const builtins = readBuiltinTemplates(input.configDir);
  const overrides: TemplateOverride[] = readTemplateOverrides(input.env, s.templatesDir).map((t) => {
    const r = rewriteLuaLoads(t.text, lua.dir, input.exists);
    if (r.replaced.length > 0)
      logger.info(`${t.source}: Lua not found where it says, using the bundled copies: ${r.replaced.join(', ')}`);
    return { ...t, text: r.text };
  });

  // HAProxy started elsewhere (--haproxy-attach, --command) runs under its own limits.
  if (s.ownHaproxy) {
    const env = await (input.fdEnvironment ?? readFdEnvironment)();
    const i = overrides.findIndex((t) => t.name === 'HEAD');
    const fit = fitMaxconn(i >= 0 ? (overrides[i] as TemplateOverride).text : (builtins['HEAD'] ?? ''), env);
    if (fit.warning !== undefined) {
      logger.warn(fit.warning);
      if (i >= 0) overrides[i] = { ...(overrides[i] as TemplateOverride), text: fit.text };
      else builtins['HEAD'] = fit.text;
    }
  }

  // --dont-bind-http-https: no marathon_https_in frontend, so no certificate is needed.
  const chosen: CertificateChoice =
    s.certificate === null
      ? ok({ sslCerts: s.sslCerts })
      : await ensureDefaultCertificate(
          {
            sslCerts: s.sslCerts,
            haproxyConfig: s.certificate.haproxyConfig,
            defaultPath: input.env['MARATHON_LB_DEFAULT_SSL_CERT'],
          },
          input.makeCertificate,
        );
  if (!chosen.ok) return chosen;
  const cert = chosen.value;
  if (cert.warning !== undefined) logger.warn(cert.warning);
  if (cert.info !== undefined) logger.info(cert.info);

  const templates = TemplateSet.build(builtins, overrides);
  if (!templates.ok) return templates;
  return ok({ luaDir: lua.dir, sslCerts: cert.sslCerts, templates: templates.value });
}
