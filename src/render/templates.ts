import { err, ok, type Result } from '../result';
import { TEMPLATES } from '../templates/catalog';
import {
  compileMustache,
  compilePythonFormat,
  mayHoldLegacy,
  TemplateSyntaxError,
  type CompiledTemplate,
} from './format';

/** Where a user's template text came from, for messages. */
export interface TemplateOverride {
  readonly name: string;
  readonly text: string;
  readonly source: string;
}

export type Compiled<T> = Result<T>;

/** The two health-check server-option templates are stripped and get one leading space (upstream). */
const SPACE_PREFIXED = new Set(['BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS', 'BACKEND_SERVER_TCP_HEALTHCHECK_OPTIONS']);
function prepareText(name: string, text: string): string {
  if (!SPACE_PREFIXED.has(name)) return text;
  const trimmed = text.trim();
  return trimmed === '' ? '' : ` ${trimmed}`;
}

const INFO = new Map(TEMPLATES.map((t) => [t.name, t]));

/** Compiles a user's text (env var, templates/ file or label) for template `name`. */
function compileOverride(name: string, text: string): CompiledTemplate {
  const info = INFO.get(name);
  const prepared = prepareText(name, text);
  if (info !== undefined && !info.formatted)
    return { name, parts: [prepared], constant: true, legacy: mayHoldLegacy([prepared]) };
  return compilePythonFormat(name, prepared);
}

/**
 * The global template set: built-ins (mustache files) replaced by users' overrides, with
 * marathon-lb's precedence already applied by whoever collected the overrides (env, then file).
 */
export class TemplateSet {
  private readonly labelCache = new Map<string, CompiledTemplate | TemplateSyntaxError>();

  private constructor(private readonly globals: ReadonlyMap<string, CompiledTemplate>) {}

  static build(
    builtins: Readonly<Record<string, string>>,
    overrides: readonly TemplateOverride[],
  ): Compiled<TemplateSet> {
    const global = new Map<string, CompiledTemplate>();
    try {
      for (const t of TEMPLATES) {
        const text = builtins[t.name];
        if (text === undefined) return err(`built-in template HAPROXY_${t.name} is missing`);
        global.set(t.name, compileMustache(t.name, prepareText(t.name, text)));
      }
    } catch (e) {
      return err(`built-in template ${(e as Error).message}`);
    }
    for (const o of overrides) {
      if (!INFO.has(o.name)) return err(`${o.source}: HAPROXY_${o.name} is not a marathon-lb template`);
      try {
        global.set(o.name, compileOverride(o.name, o.text));
      } catch (e) {
        return err(`${o.source}: template HAPROXY_${(e as Error).message}`);
      }
    }
    return ok(new TemplateSet(global));
  }

  global(name: string): CompiledTemplate {
    const t = this.globals.get(name);
    if (t === undefined) throw new Error(`unknown template ${name}`);
    return t;
  }

  /** A per-app label override, compiled once per distinct text (thousands of apps often share one). */
  fromLabel(name: string, text: string): CompiledTemplate | TemplateSyntaxError {
    const key = `${name}\u0000${text}`;
    let t = this.labelCache.get(key);
    if (t === undefined) {
      try {
        t = compileOverride(name, text);
      } catch (e) {
        t = e instanceof TemplateSyntaxError ? e : new TemplateSyntaxError(String(e));
      }
      this.labelCache.set(key, t);
    }
    return t;
  }
}
