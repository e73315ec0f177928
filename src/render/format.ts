import Mustache from 'mustache';
import { TextCopy } from '../model/textCopy';
import { formatField, parseField, pyStr, type FieldFormat } from './pythonFormat';
import { LEGACY_START } from './legacyDirectives';

/** A placeholder: the context's value of `key`, printed as Python's str() or as `format` says. */
export interface Placeholder {
  readonly key: string;
  readonly format?: FieldFormat;
}

/** A template compiled to literal text and placeholder names, rendered by concatenation. */
export interface CompiledTemplate {
  readonly name: string;
  readonly parts: readonly (string | Placeholder)[];
  /** True when the template has no placeholders (saves a render on hot paths). */
  readonly constant: boolean;
  /** A line of it may start with a directive HAProxy 2.1 removed (see mayHoldLegacy): only such output is translated. */
  readonly legacy: boolean;
}

/** A value of a template's context: a JSON object only where marathon-lb passes a dict (`healthCheck`). */
export type TemplateValue = string | number | boolean | null | undefined | Readonly<Record<string, unknown>>;
export type TemplateContext = Readonly<Record<string, TemplateValue>>;

export class TemplateSyntaxError extends Error {}

function finish(name: string, parts: (string | Placeholder)[]): CompiledTemplate {
  const merged: (string | Placeholder)[] = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
    else if (p !== '') merged.push(p);
  }
  return { name, parts: merged, constant: merged.every((p) => typeof p === 'string'), legacy: mayHoldLegacy(merged) };
}

// Multiline: LEGACY_START ends a removed option at its line's end (`option http-tunnel\n`), not the text's (a migration audit).
const MAY_HOLD_LEGACY = new RegExp(String.raw`^[ \t]*(?:${LEGACY_START}|[^\s\u0000]*\u0000)`, 'm');

/**
 * Whether a rendered line could start with `req…`, `rsp…`, `block` or another directive 2.1 removed: its literal text does, or a
 * placeholder sits in a line's first word (values never hold line breaks).
 */
export function mayHoldLegacy(parts: readonly (string | Placeholder)[]): boolean {
  const text = parts.map((p) => (typeof p === 'string' ? p : '\u0000')).join('');
  return MAY_HOLD_LEGACY.test(text);
}

/** Built-in templates are mustache files; only plain `{{name}}` tags are allowed: templates print, the model decides. */
export function compileMustache(name: string, text: string): CompiledTemplate {
  const parts: (string | Placeholder)[] = [];
  for (const token of Mustache.parse(text) as unknown as [string, string][]) {
    const [type, value] = token;
    if (type === 'text') parts.push(value);
    else if (type === 'name' || type === '&') parts.push({ key: value });
    else throw new TemplateSyntaxError(`${name}: only {{name}} tags are allowed, found a "${type}" tag`);
  }
  return finish(name, parts);
}

/**
 * Users' overrides keep marathon-lb's Python str.format syntax: `{name}` placeholders, `{{`/`}}` for
 * literal braces, and items, conversions and format specs (`{healthCheck[path]}`, `{port!s}`,
 * `{servicePort:d}`; pythonFormat.ts).
 */
export function compilePythonFormat(name: string, text: string): CompiledTemplate {
  const parts: (string | Placeholder)[] = [];
  let literal = new TextCopy(text);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' && text[i + 1] === '{') {
      literal.replace(i, 2, '{');
      i++;
      continue;
    }
    if (c === '}' && text[i + 1] === '}') {
      literal.replace(i, 2, '}');
      i++;
      continue;
    }
    if (c === '}') throw new TemplateSyntaxError(`${name}: single '}' at offset ${i} (write '}}' for a literal brace)`);
    if (c !== '{') continue;
    const end = text.indexOf('}', i);
    if (end < 0)
      throw new TemplateSyntaxError(`${name}: '{' at offset ${i} is never closed (write '{{' for a literal brace)`);
    const field = text.slice(i + 1, end);
    const parsed = parseField(field);
    if ('error' in parsed) {
      throw new TemplateSyntaxError(
        `${name}: unsupported placeholder {${field}} (${parsed.error}; write '{{' for a literal brace)`,
      );
    }
    parts.push(
      literal.upTo(i),
      parsed.format === null ? { key: parsed.key } : { key: parsed.key, format: parsed.format },
    );
    literal = new TextCopy(text, end + 1);
    i = end;
  }
  parts.push(literal.upTo());
  return finish(name, parts);
}

/**
 * The context's own value for a placeholder: `{constructor}`, `{__proto__}` or `{toString}` in a
 * label are names the context does not provide (Python's format raises KeyError), not what every
 * object inherits (they printed `function Object() { [native code] }`).
 */
const valueOf = (ctx: TemplateContext, key: string): TemplateValue | undefined =>
  Object.hasOwn(ctx, key) ? ctx[key] : undefined;

/** Python's str() of the scalar values marathon-lb passes to format(). */
function show(v: string | number | boolean | null): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  // A float as Python prints it (1e-05, not 0.00001).
  return Number.isInteger(v) ? String(v) : pyStr(v);
}

/** Why a template could not be rendered: a placeholder the context lacks, or a value its format refuses. */
export type TemplateFault = { readonly missing: string } | { readonly invalid: string };

/** A placeholder's text in `ctx`, or its fault. */
export function placeholderText(p: Placeholder, ctx: TemplateContext): string | TemplateFault {
  const v = valueOf(ctx, p.key);
  if (v === undefined) return { missing: p.key };
  if (p.format !== undefined) return formatField(v, p.format);
  return typeof v === 'object' && v !== null ? pyStr(v) : show(v);
}

/**
 * Appends the rendered parts to `out` (no string of their own: the caller joins a whole section at
 * once); the first fault, or undefined. On a fault some parts may be in `out` already: the caller
 * throws it away.
 */
export function renderTemplateInto(
  t: CompiledTemplate,
  ctx: TemplateContext,
  out: string[],
): TemplateFault | undefined {
  for (let i = 0; i < t.parts.length; i++) {
    const p = t.parts[i]!;
    if (typeof p === 'string') out.push(p);
    else {
      const s = placeholderText(p, ctx);
      if (typeof s !== 'string') return s;
      out.push(s);
    }
  }
  return undefined;
}

/** A text that renderTemplate stopped rendering past its `maxLength`. */
export interface TooLong {
  readonly tooLong: number;
}

/**
 * Renders, or returns the first fault. `maxLength` bounds what a label's text may become (a
 * placeholder repeated 100 000 times made a 1 MB label into 110 MB of config): rendering stops once
 * past it.
 */
export function renderTemplate(
  t: CompiledTemplate,
  ctx: TemplateContext,
  maxLength = Infinity,
): string | TemplateFault | TooLong {
  if (t.constant) return (t.parts[0] as string | undefined) ?? '';
  // join() yields one flat string; `+=` would build rope nodes that live until the whole config is joined.
  const out: string[] = new Array<string>(t.parts.length);
  let length = 0;
  for (let i = 0; i < t.parts.length; i++) {
    const p = t.parts[i]!;
    const s = typeof p === 'string' ? p : placeholderText(p, ctx);
    if (typeof s !== 'string') return s;
    length += s.length;
    if (length > maxLength) return { tooLong: maxLength };
    out[i] = s;
  }
  return out.join('');
}
