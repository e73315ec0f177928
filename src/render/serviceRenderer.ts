import {
  appTemplateText,
  filledTargetProblem,
  labelTargetNames,
  unreadableFileIn,
  type LoadedFileCheck,
  type OwnAddresses,
} from '../model/templateLabels';
import type { Service } from '../model/types';
import {
  renderTemplate,
  renderTemplateInto,
  TemplateSyntaxError,
  type TemplateContext,
  type TemplateFault,
  type TooLong,
} from './format';
import { splitWords } from './configWords';
import { translateLegacyDirectives } from './legacyDirectives';
import type { TemplateSet } from './templates';

/** The legacy lines whose translations run elsewhere in their section than written (legacyDirectives.ts). */
const MOVED_RULE = /^[ \t]*(?:req|rsp|block)/m;

/** Raised inside the rendering of one service only; render.ts turns it into a Problem and leaves that service out. */
export class ServiceTemplateError extends Error {
  /** `global`: the fault is in a global template (built-in, env or templates/ file), not in this app's labels. */
  constructor(
    readonly label: string | null,
    message: string,
    readonly global = false,
  ) {
    super(message);
  }
}

/**
 * Renders templates for one service: a `HAPROXY_{n}_<NAME>` label of the app wins over the
 * global template. `labelName` differs from `name` for the map variants, which upstream lets the
 * plain template's label override (e.g. MAP_HTTP_FRONTEND_ACL ← label HTTP_FRONTEND_ACL).
 */
export class ServiceRenderer {
  /** `translateLegacy`: the HAProxy driven is 2.1 or newer (see legacyDirectives.ts). */
  /** `haproxyDir`: where the controller's own map files are, which a label's map converters may read. */
  /** `dependsOnVersion`: told when a translation changed a text or could not make it (render.ts). */
  constructor(
    private readonly templates: TemplateSet,
    private readonly svc: Service,
    private readonly translateLegacy: boolean,
    private readonly haproxyDir = '',
    private readonly dependsOnVersion: () => void = () => undefined,
    private readonly loadedFile?: LoadedFileCheck,
    private readonly selfAddresses?: OwnAddresses,
  ) {}

  /** What the service has rendered so far (countText). */
  private chars = 0;

  /** False inside `untranslated`. */
  private translating = true;

  /**
   * Set when a translated text held rules 2.0 ran elsewhere in their section (`req*`, `rsp*`,
   * `block`): the caller puts the whole section in order (legacyDirectives.ts), since a template's
   * text alone cannot see another's rules (HSTS's rspadd above an override's http-response rule).
   */
  movedRules = false;

  /**
   * A label's rules may route to any app's backend, not to the operator's own sections: the stats
   * listen's Lua services print the whole config (an audit: `use_backend stats` in a FRONTEND_HEAD
   * label, or `reqsetbe` since it is translated, served it on the app's port).
   */
  private routesToOperator(label: string, text: string): void {
    // Escapes and quotes spell a keyword too (`\x75se_backend`, `u''se_backend`: an audit): the words are judged then.
    if (!/(?:use_backend|default_backend|setbe)\b|[\\"']/.test(text)) return;
    const operator = this.templates.proxiesOfOperator();
    for (const line of text.split('\n')) {
      const words = splitWords(line).words.map((w) => w.value);
      const target = /^(?:use_backend|default_backend)$/.test(words[0] ?? '')
        ? words[1]
        : /^reqi?setbe$/.test(words[0] ?? '')
          ? words[2]
          : undefined;
      if (target !== undefined && operator.has(target))
        throw new ServiceTemplateError(
          label,
          `"${line.trim().slice(0, 80)}" sends requests to ${target}, a section of the operator's templates (its stats and Lua services show every app's servers and the whole config)`,
        );
      // A name made when a request comes (`%[req.hdr(x-b)]`, `%{+E}[…]`, `%HM`: any log-format variable)
      // may be the operator's too, past this check (audits): only a lookup in the controller's own
      // maps, which name apps' backends alone, is known to stay among them (marathon-lb's MAP_*
      // templates; the label may read no other map). No backend's own name holds a `%`.
      if (target !== undefined && target.includes('%') && !OWN_MAP_LOOKUP.test(target))
        throw new ServiceTemplateError(
          label,
          `"${line.trim().slice(0, 80)}" sends requests to a backend named when a request comes, which could be a section of the operator's templates (its stats and Lua services show every app's servers and the whole config); only a lookup in the controller's maps (…,map(<file>)]) may name one`,
        );
    }
  }

  /** `f` rendered without translating and without counting it again: the caller translates the whole. */
  untranslated<T>(f: () => T): T {
    const chars = this.chars;
    this.translating = false;
    try {
      return f();
    } finally {
      this.translating = true;
      this.chars = chars;
    }
  }

  /**
   * One service's config is bounded: 16 MiB, or 2 KiB a server when it has more. A label repeated
   * for each server (a server template, a health check's options) repeats its text as often: 1 MB
   * in one made 280 MB of config from 280 tasks, and the controller failed every apply on a config too
   * big to load, every app's change with it (two audits). Counted as it is rendered, so such a
   * service is left out before it is all made.
   */
  private countText(label: string | null, chars: number): void {
    this.chars += chars;
    const most = Math.max(MAX_SERVICE_CHARS, MAX_CHARS_A_SERVER * this.svc.servers.length);
    if (this.chars > most)
      throw new ServiceTemplateError(
        label,
        `its config would be more than ${most} characters (${MAX_SERVICE_CHARS / 2 ** 20} MiB, or ${MAX_CHARS_A_SERVER / 1024} KiB a server for its ${this.svc.servers.length} server(s)): a label repeated for each server or vhost makes it that long`,
      );
  }

  /** The host names the app's template labels spell out, read once per service (not per server line). */
  private namesInLabels: ReadonlySet<string> | undefined;

  private labelNames(): ReadonlySet<string> {
    return (this.namesInLabels ??= new Set(
      Object.entries(this.svc.templateLabels).flatMap(([label, text]) => labelTargetNames(label, text)),
    ));
  }

  render(name: string, ctx: TemplateContext, labelName: string = name): string {
    const labelText = this.svc.templateLabels[labelName];
    const t = labelText === undefined ? this.templates.global(name) : this.templates.fromLabel(labelName, labelText);
    const label = labelText === undefined ? null : `HAPROXY_{n}_${labelName}`;
    if (t instanceof TemplateSyntaxError) throw new ServiceTemplateError(label, t.message);
    const maxLength = labelText === undefined ? Infinity : labelText.length + MAX_FILLED_IN;
    let out = renderTemplate(t, ctx, maxLength);
    if (typeof out !== 'string') throw faultOf(name, label, out, ctx);
    this.countText(label, out.length);
    if (label !== null && !t.constant) {
      out = checkedLabelText(labelName, label, out, this.haproxyDir, this.svc.servicePort, this.loadedFile);
      // The task's own address is Marathon's: the label is judged with a documentation address there.
      const probe =
        'host' in ctx || 'host_ipv4' in ctx ? renderTemplate(t, { ...ctx, ...PROBE_ADDRESS }, maxLength) : out;
      const made =
        typeof probe === 'string'
          ? filledTargetProblem(labelName, probe, () => this.labelNames(), this.selfAddresses)
          : null;
      if (made !== null) throw new ServiceTemplateError(label, `with its placeholders filled in, ${made}`);
    }
    if (label !== null) this.routesToOperator(label, out);
    if (!this.translateLegacy || !this.translating || !t.legacy) return out;
    const tr = t.constant ? this.templates.constantTranslation(t, out) : translateLegacyDirectives(out);
    if (!tr.ok || tr.value !== out) this.dependsOnVersion();
    if (tr.ok && tr.value !== out && MOVED_RULE.test(out)) this.movedRules = true;
    if (tr.ok) return tr.value;
    throw new ServiceTemplateError(
      label,
      `${where(name, label)}: ${tr.error.message} (line: ${tr.error.line})`,
      label === null,
    );
  }

  /**
   * As render, appending to `out` (a section the caller joins whole, and throws away on an error).
   * Text that may need translating is rendered whole first.
   */
  renderInto(name: string, ctx: TemplateContext, out: string[], labelName: string = name): void {
    const labelText = this.svc.templateLabels[labelName];
    const t = labelText === undefined ? this.templates.global(name) : this.templates.fromLabel(labelName, labelText);
    // A label's text with placeholders is judged again once they are filled in (render does).
    if (
      t instanceof TemplateSyntaxError ||
      (this.translateLegacy && this.translating && t.legacy) ||
      (labelText !== undefined && !t.constant)
    ) {
      out.push(this.render(name, ctx, labelName));
      return;
    }
    const from = out.length;
    const fault = renderTemplateInto(t, ctx, out);
    const label = labelText === undefined ? null : `HAPROXY_{n}_${labelName}`;
    if (fault !== undefined) throw faultOf(name, label, fault, ctx);
    if (label !== null) this.routesToOperator(label, out.slice(from).join(''));
    let chars = 0;
    for (let i = from; i < out.length; i++) chars += out[i]!.length;
    this.countText(label, chars);
  }
}

/**
 * A label's text as rendered, judged as the label itself was (templateLabels.ts): values filled into
 * its placeholders must not complete what the label alone could not write (`%[{hostname}(X)]` with
 * the vhost `env`, a keyword split by an empty `{otherOptions}`); its binds only its service port; and
 * the files it names HAProxy can read and be done with (`loadedFile`).
 */
function checkedLabelText(
  labelName: string,
  label: string,
  rendered: string,
  haproxyDir: string,
  servicePort: number,
  loadedFile: LoadedFileCheck | undefined,
): string {
  const maps = [`${haproxyDir}/domain2backend.map`, `${haproxyDir}/app2backend.map`];
  const text = appTemplateText(labelName, rendered, maps, servicePort);
  if (typeof text !== 'string') throw new ServiceTemplateError(label, `with its placeholders filled in, ${text.error}`);
  const unreadable = loadedFile === undefined ? null : unreadableFileIn(text, loadedFile);
  if (unreadable !== null) throw new ServiceTemplateError(label, `with its placeholders filled in, it ${unreadable}`);
  return text;
}

/** `%[<fetch and converters>,map(<file>)]` (or map_beg, map_reg, …) with no default: the backend is one the map names, or none. */
const OWN_MAP_LOOKUP = /^%\[[^\]]*,map(?:_\w+)?\([^,()]*\)\]$/;

/**
 * How much longer than its own text a label may render: its placeholders' values (an app id of 1 024
 * characters fills `{backend}` with more) may add this much. HAProxy loads no config the size that
 * repeated placeholders make, and the controller refused the whole config for it, every app's change
 * with it.
 */
const MAX_FILLED_IN = 64 * 1024;
/** The most one service's config may hold (ServiceRenderer.countText). */
const MAX_SERVICE_CHARS = 16 * 2 ** 20;
/** …or, for a service of more servers than that holds, this much a server. */
const MAX_CHARS_A_SERVER = 2 * 1024;

function faultOf(
  name: string,
  label: string | null,
  fault: TemplateFault | TooLong,
  ctx: TemplateContext,
): ServiceTemplateError {
  if ('tooLong' in fault)
    return new ServiceTemplateError(
      label,
      `with its placeholders filled in, it is longer than ${fault.tooLong} characters (its own text and ${MAX_FILLED_IN / 1024} KiB of values)`,
    );
  if ('invalid' in fault)
    return new ServiceTemplateError(label, `${where(name, label)}: cannot format ${fault.invalid}`, label === null);
  const known = Object.keys(ctx).join(', ') || 'none';
  return new ServiceTemplateError(
    label,
    `${where(name, label)} uses {${fault.missing}}, which is not available there (available: ${known})`,
  );
}

/** A task's address in a server line, as filledTargetProblem is shown it (TEST-NET-1, RFC 5737). */
const PROBE_ADDRESS = { host: '192.0.2.1', host_ipv4: '192.0.2.1' } as const;

/** Named only on errors: no string per rendered line (tens of thousands per snapshot). */
const where = (name: string, label: string | null): string =>
  label === null ? `template HAPROXY_${name}` : `label ${label}`;
