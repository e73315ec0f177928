/**
 * A per-app template label that changes nothing in the config is almost always a mistake the
 * app owner cannot see: an HTTP template on a tcp port, a template of a kind the port does not
 * use, or the built-in text copied. Found by rendering without each such label.
 */
import { TEMPLATE_LABEL_NAMES } from '../templates/catalog';
import type { RenderedConfig } from '../render/render';

type Obj = Record<string, unknown>;

export async function unusedTemplateLabels(
  app: Obj,
  rendered: RenderedConfig,
  evaluate: (app: Obj) => Promise<{ rendered: RenderedConfig }>,
): Promise<string[]> {
  if (rendered.served.length === 0) return [];
  const labels = (app['labels'] ?? {}) as Readonly<Record<string, unknown>>;
  const notes: string[] = [];
  for (const key of Object.keys(labels).sort()) {
    const m = /^HAPROXY_(\d+)_(.+)$/.exec(key);
    if (m === null || !TEMPLATE_LABEL_NAMES.has(m[2] as string)) continue;
    const { [key]: _dropped, ...rest } = labels;
    let without: RenderedConfig;
    try {
      without = (await evaluate({ ...app, labels: rest })).rendered;
    } catch {
      continue; // does not render without it: it is used
    }
    if (without.config === rendered.config && without.served.length === rendered.served.length) {
      const mode = rendered.served.find((s) => s.templateLabels[m[2] as string] !== undefined)?.mode;
      notes.push(
        `label ${key} changes nothing in the config${mode === undefined ? '' : ` (port index ${m[1]} is in ${mode} mode)`}: ` +
          "check the template name and the port's mode (HTTP templates apply to http ports only; --longhelp lists them)",
      );
    }
  }
  return notes;
}
