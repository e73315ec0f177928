/**
 * --longhelp: upstream's overview, the usage text, then every template (with its default text, shown
 * with the Python `{x}` placeholders users write in overrides) and every other label.
 * Mirrors ConfigTemplater.get_descriptions() of marathon-lb v1.15.
 * loadLongHelpData() reads config/ (templates/catalog.json, templates/*.mustache, labels.json);
 * buildLongHelp() is pure.
 */
import { findConfigDir } from '../configDir';
import * as fs from 'fs';
import * as path from 'path';

export interface TemplateDoc {
  readonly name: string;
  readonly overridable: boolean;
  readonly description: string;
  /** Default text as a user would write it (Python str.format placeholders). */
  readonly defaultText: string;
}

export interface LabelDoc {
  readonly name: string;
  readonly perServicePort: boolean;
  readonly description: string;
}

export interface LongHelpData {
  readonly templates: readonly TemplateDoc[];
  readonly labels: readonly LabelDoc[];
}

const OVERVIEW = `# marathon-lb
### Overview
The marathon-lb is a service discovery and load balancing tool
for Marathon based on HAProxy. It reads the Marathon task information
and dynamically generates HAProxy configuration details.

To gather the task information, marathon-lb needs to know where
to find Marathon. The service configuration details are stored in labels.

Every service port in Marathon can be configured independently.

### Configuration
Service configuration lives in Marathon via labels.
Marathon-lb just needs to know where to find Marathon.

### Command Line Usage
`;

/** What HAPROXY_HEAD shows for {{globalDefaultOptions}} and {{luaDir}} (upstream's defaults). */
const DEFAULT_GLOBAL_OPTIONS = ['dontlognull', 'http-server-close', 'redispatch']
  .map((opt) => `  option            ${opt}\n`)
  .join('');
const DEFAULT_LUA_DIR = '/marathon-lb';

/** Mustache text → Python format text: `{{x}}` → `{x}`, literal `{` / `}` → `{{` / `}}`. */
export function mustacheToPythonFormat(text: string): string {
  return text.replace(/\{\{\s*([^{}\s]+)\s*\}\}|[{}]/g, (m: string, name: string | undefined) =>
    name !== undefined ? `{${name}}` : m + m,
  );
}

function defaultText(name: string, formatted: boolean, mustache: string): string {
  if (name === 'HEAD') {
    return mustache
      .replace(/\{\{\s*globalDefaultOptions\s*\}\}/g, DEFAULT_GLOBAL_OPTIONS)
      .replace(/\{\{\s*luaDir\s*\}\}/g, DEFAULT_LUA_DIR);
  }
  return formatted ? mustacheToPythonFormat(mustache) : mustache;
}

interface CatalogEntry {
  name: string;
  overridable: boolean;
  formatted: boolean;
  description: string;
}

export function loadLongHelpData(configDir: string = findConfigDir()): LongHelpData {
  const templatesDir = path.join(configDir, 'templates');
  const catalog = JSON.parse(fs.readFileSync(path.join(templatesDir, 'catalog.json'), 'utf8')) as CatalogEntry[];
  const templates = catalog.map((t) => ({
    name: t.name,
    overridable: t.overridable,
    description: t.description,
    defaultText: defaultText(
      t.name,
      t.formatted,
      fs.readFileSync(path.join(templatesDir, `HAPROXY_${t.name}.mustache`), 'utf8'),
    ),
  }));
  const labels = (JSON.parse(fs.readFileSync(path.join(configDir, 'labels.json'), 'utf8')) as LabelDoc[]).map((l) => ({
    name: l.name,
    perServicePort: l.perServicePort,
    description: l.description,
  }));
  return { templates, labels };
}

function templateSection(t: TemplateDoc): string {
  const fullName = `HAPROXY_${t.name}`;
  const spec = `\`${fullName}\` template` + (t.overridable ? ` or with label \`HAPROXY_{n}_${t.name}\`` : '');
  let out =
    `## \`${fullName}\`\n  *${t.overridable ? 'Overridable per app' : 'Global'}*\n\n` +
    `Specified as ${spec}.\n\n${t.description}\n\n` +
    `**Default template for \`${fullName}\`:**\n\`\`\`\n${t.defaultText}\`\`\`\n`;
  if (t.overridable) {
    // A JSON string value: escape backslashes, quotes and newlines.
    const flat = t.defaultText.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    out +=
      `**Example Marathon label to override \`${fullName}\` for port 0 of an app:**\n` +
      `\`\`\`\n"HAPROXY_0_${t.name}": "${flat}"\n\`\`\`\n\n`;
  }
  return out;
}

function labelSection(l: LabelDoc): string {
  const spec =
    l.name === 'GROUP'
      ? `\`HAPROXY_{n}_${l.name}\` or \`HAPROXY_${l.name}\``
      : l.perServicePort
        ? `\`HAPROXY_{n}_${l.name}\``
        : `\`HAPROXY_${l.name}\``;
  const fullName = l.perServicePort ? `HAPROXY_{n}_${l.name}` : `HAPROXY_${l.name}`;
  return (
    `## \`${fullName}\`\n  *${l.perServicePort ? 'per service port' : 'per app'}*\n\n` +
    `Specified as ${spec}.\n\n${l.description}\n\n`
  );
}

export function buildLongHelp(usage: string, data: LongHelpData): string {
  const templateNames = new Set(data.templates.map((t) => t.name));
  const templates = [...data.templates].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return (
    `${OVERVIEW}\n\`\`\`\n${usage.replace(/\n+$/, '')}\n\`\`\`\n` +
    '## Templates\n\n' +
    'The following is a list of the available HAProxy templates.\n' +
    'Some templates are global-only (such as `HAPROXY_HEAD`), but most may\n' +
    'be overridden on a per service port basis using the\n' +
    '`HAPROXY_{n}_...` syntax.\n\n' +
    templates.map(templateSection).join('') +
    '## Other Labels\nThese labels may be used to configure other app settings.\n\n' +
    data.labels
      .filter((l) => !templateNames.has(l.name))
      .map(labelSection)
      .join('')
  );
}

export { findConfigDir };
