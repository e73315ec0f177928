import { err, ok, type Result } from '../result';
import { TEMPLATES } from '../templates/catalog';
import { translateLegacyDirectives, type Translation } from './legacyDirectives';
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
  /**
   * Label texts compiled by the renders of this generation and of the one before (nextGeneration).
   * A controller keeps its TemplateSet for its lifetime: kept for good, every text any app ever had
   * (a label that changes with each deploy, or is changed on purpose) stayed compiled, ~2 copies of
   * the text each, and the heap grew without bound.
   */
  private currentLabels = new Map<string, CompiledTemplate | TemplateSyntaxError>();
  private previousLabels = new Map<string, CompiledTemplate | TemplateSyntaxError>();
  /** A constant template's text as translated for HAProxy 2.1+ (legacyDirectives.ts), gone with the template. */
  private readonly translations = new WeakMap<CompiledTemplate, Translation>();

  private constructor(private readonly globals: ReadonlyMap<string, CompiledTemplate>) {}

  private operatorProxies: ReadonlySet<string> | undefined;

  /**
   * The `listen` and `backend` sections the global head templates open (the stats listen, with its
   * Lua services that print the whole config): an app's label may not send requests to one.
   */
  proxiesOfOperator(): ReadonlySet<string> {
    return (this.operatorProxies ??= new Set(
      ['HEAD', 'HTTP_FRONTEND_HEAD', 'HTTP_FRONTEND_APPID_HEAD', 'HTTPS_FRONTEND_HEAD', 'HTTPS_GROUPED_FRONTEND_HEAD']
        .map((name) => (this.globals.get(name)?.parts ?? []).filter((p): p is string => typeof p === 'string').join(''))
        .flatMap((text) => [...text.matchAll(/^[ \t]*(?:listen|backend)[ \t]+([^ \t\n{]+)/gm)].map((m) => m[1]!)),
    ));
  }

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
    let t = this.currentLabels.get(key);
    if (t === undefined) {
      t = this.previousLabels.get(key) ?? compileLabel(name, this.endingItsLine(name, text));
      this.currentLabels.set(key, t);
    }
    return t;
  }

  /**
   * A label's text ended as the template it stands for ends: with a newline when that one ends its
   * line. Label values rarely end with one (Marathon's JSON strings), and a label's last line ran
   * into the next line of the config: into another app's `acl` line in the shared frontends, which
   * HAProxy then refused with the whole config (found by an audit). A fragment of a line (a server's
   * check options) and an empty label (one that removes its text) stay as they are.
   */
  private endingItsLine(name: string, text: string): string {
    if (text === '' || text.endsWith('\n')) return text;
    const parts = this.globals.get(name)?.parts;
    const last = parts?.[parts.length - 1];
    return typeof last === 'string' && last.endsWith('\n') ? `${text}\n` : text;
  }

  /**
   * Starts a generation of label texts (renderConfig, once per render that renders services): texts no render has used
   * since the one before are dropped. A service rendered before is reused whole by the RenderCache
   * and reads no label, so what stays is the texts of services that changed lately.
   */
  nextGeneration(): void {
    this.previousLabels = this.currentLabels;
    this.currentLabels = new Map();
  }

  /** A template without placeholders, translated once (thousands of HSTS apps share one). */
  constantTranslation(t: CompiledTemplate, text: string): Translation {
    let tr = this.translations.get(t);
    if (tr === undefined) this.translations.set(t, (tr = translateLegacyDirectives(text)));
    return tr;
  }
}

function compileLabel(name: string, text: string): CompiledTemplate | TemplateSyntaxError {
  try {
    return compileOverride(name, text);
  } catch (e) {
    return e instanceof TemplateSyntaxError ? e : new TemplateSyntaxError(String(e));
  }
}
