import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEMPLATES } from '../templates/catalog';
import { TemplateSet, type Compiled, type TemplateOverride } from './templates';

/** Reads the built-in mustache templates shipped in config/templates. */
export function readBuiltinTemplates(configDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of TEMPLATES)
    out[t.name] = fs.readFileSync(path.join(configDir, 'templates', `HAPROXY_${t.name}.mustache`), 'utf8');
  return out;
}

/**
 * A user's overrides with marathon-lb's precedence: env var `HAPROXY_<NAME>` (with `\n` escapes
 * turned into line breaks), else a file named `HAPROXY_<NAME>` in the templates directory.
 */
export function readTemplateOverrides(
  env: Readonly<Record<string, string | undefined>>,
  templatesDir: string,
): TemplateOverride[] {
  const out: TemplateOverride[] = [];
  // The directory is listed once: trying each template's file would cost one failed open per template.
  // null: the directory exists but cannot be listed (execute permission only), so each file is tried.
  let present: ReadonlySet<string> | null;
  try {
    present = new Set(fs.readdirSync(templatesDir));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    present = code === 'ENOENT' || code === 'ENOTDIR' ? new Set() : null; // no directory: the built-ins apply
  }
  for (const t of TEMPLATES) {
    const full = `HAPROXY_${t.name}`;
    const fromEnv = env[full];
    if (fromEnv) {
      out.push({ name: t.name, text: fromEnv.replace(/\\n/g, '\n'), source: `environment variable ${full}` });
      continue;
    }
    if (present !== null && !present.has(full)) continue;
    const file = path.join(templatesDir, full);
    let text: string | undefined;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      text = undefined; // no override file: the built-in applies
    }
    if (text !== undefined) out.push({ name: t.name, text, source: `template file ${file}` });
  }
  return out;
}

export function loadTemplateSet(
  configDir: string,
  env: Readonly<Record<string, string | undefined>>,
  templatesDir: string,
): Compiled<TemplateSet> {
  return TemplateSet.build(readBuiltinTemplates(configDir), readTemplateOverrides(env, templatesDir));
}
