import { fileURLToPath } from 'node:url';
import type { DriverDefinition } from '@sceneway/device-drivers';
import { z } from 'zod';
import { DRIVER_REGISTRY } from '../drivers/registry.ts';
import { SCENARIO_REGISTRY } from '../scenarios/registry.ts';
import type { ScenarioDefinition } from '../scenarios/scenario-api.ts';
import { CONFIG_PATH_FIELDS } from './config-paths.ts';
import { boxConfigSchema, CONFIG_VERSION } from './schema.ts';

/**
 * docs/configuration.md, rendered from the zod schemas (the box's and every registered driver's) through
 * their JSON Schema: the same text `sceneway config schema` prints, so the reference cannot drift from
 * what the loader accepts. `npm run docs:config` writes it; a test fails when the committed file differs.
 */
export const CONFIG_REFERENCE_FILE = fileURLToPath(
  new URL('../../../docs/configuration.md', import.meta.url),
);

interface JsonSchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
}

interface FieldRow {
  path: string;
  node: JsonSchemaNode;
  required: boolean;
}

const jsonSchemaOf = (schema: z.ZodType): JsonSchemaNode =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;

/** The fields under an object, depth first, with dotted paths (`[]` marks the items of a list). */
function fieldRows(node: JsonSchemaNode, prefix: string): FieldRow[] {
  const rows: FieldRow[] = [];
  const objectNode = node.type === 'array' && node.items ? node.items : node;
  const base = node.type === 'array' ? `${prefix}[]` : prefix;
  for (const [key, child] of Object.entries(objectNode.properties ?? {})) {
    const path = base === '' ? key : `${base}.${key}`;
    rows.push({ path, node: child, required: objectNode.required?.includes(key) ?? false });
    if (child.properties || child.items?.properties) rows.push(...fieldRows(child, path));
  }
  return rows;
}

// Numbers past this are "no bound" in zod's output (Number.MAX_SAFE_INTEGER), not a limit to document.
const isBound = (n: number | undefined): n is number =>
  n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER;

function rangeOf(min: number | undefined, max: number | undefined, unit: string): string {
  if (isBound(min) && isBound(max)) {
    if (min === max) return `${min}${unit}`;
    return min < 0 ? `${min} to ${max}${unit}` : `${min}–${max}${unit}`;
  }
  if (isBound(min)) return `≥ ${min}${unit}`;
  if (isBound(max)) return `≤ ${max}${unit}`;
  return '';
}

const code = (text: string) => `\`${text}\``;
const withDetail = (base: string, detail: string) => (detail === '' ? base : `${base}, ${detail}`);

/** Type and allowed values of one field, in words an installer reads. */
function typeOf(node: JsonSchemaNode): string {
  if (node.const !== undefined) return code(JSON.stringify(node.const));
  if (node.enum) return `one of ${node.enum.map((v) => code(String(v))).join(', ')}`;
  const branches = node.anyOf ?? node.oneOf;
  if (branches) return branches.map(typeOf).join(' or ');
  switch (node.type) {
    case 'string': {
      if (node.format === 'uri') return 'URL';
      if (node.pattern) return `string matching ${code(node.pattern)}`;
      const length = rangeOf(node.minLength, node.maxLength, ' characters');
      return withDetail('string', length === '≥ 1 characters' ? 'not empty' : length);
    }
    case 'integer':
    case 'number': {
      const min = node.exclusiveMinimum !== undefined ? undefined : node.minimum;
      const positive = node.exclusiveMinimum === 0 ? 'positive' : '';
      return withDetail(node.type, positive || rangeOf(min, node.maximum, ''));
    }
    case 'array': {
      const items = node.items?.properties ? 'objects' : node.items ? typeOf(node.items) : 'values';
      return withDetail(`list of ${items}`, rangeOf(node.minItems, node.maxItems, ' entries'));
    }
    case undefined:
      return 'any';
    default:
      return node.type;
  }
}

function defaultOf(row: FieldRow): string {
  const value = row.node.default;
  if (value !== undefined && row.node.type !== 'object') return code(JSON.stringify(value));
  if (row.node.type === 'object' && value !== undefined) return 'see its fields';
  return row.required ? '**required**' : 'optional';
}

// A table cell is one line, and `|` ends it even inside backticks.
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** A table padded to its widest cell per column, as the formatter (biome) would write it by hand. */
function fieldTable(rows: readonly FieldRow[]): string {
  const header = ['Field', 'Type', 'Default', 'Description'];
  const body = rows.map((row) =>
    [code(row.path), typeOf(row.node), defaultOf(row), row.node.description ?? ''].map(cell),
  );
  const width = (text: string) => [...text].length;
  const widths = header.map((h, i) => Math.max(width(h), 3, ...body.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - width(c))).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const INTRO = `# Box configuration reference

<!-- Generated from gateway-agent/src/config/schema.ts and the driver schemas by \`npm run docs:config\`; do not edit by hand. -->

One YAML (\`.yaml\`, \`.yml\`) or JSON (\`.json\`) file configures a box. Start from
[examples/box.yaml](../examples/box.yaml), a complete site, and check a file before starting the agent:

\`\`\`sh
npx sceneway config validate box.yaml          # every problem, each named by its field
npx sceneway config validate box.yaml --print  # the effective config: defaults filled, paths resolved
npx sceneway config schema                     # the JSON Schema this page is generated from
\`\`\`

\`config validate\` exits 0 for a valid file and 1 for an invalid one; 2 when it could not run (an
unreadable file, a YAML or JSON syntax error, a config version newer than the agent).

## Rules for every field

- **Unknown keys are errors, at every level.** A misspelt key would otherwise be ignored and its
  default silently applied. The error names the full path and, for a near miss, the key that was meant:
  \`\`scenarios.canteen.limits.perTransactionLimit: unknown key; did you mean \`perTransactionLimitFen\`?\`\`
- **Every problem is listed at once**, each as \`path: what is expected\`, with list indices
  (\`drivers[1].config.port.path: expected an absolute device path\`).
- **Money is integer fen** (1 yuan = 100 fen), never a decimal.
- **Required** fields have no default and must be written; a required field inside an optional object
  (such as \`bank.tls.certPath\`) is required only when that object is present.
- **Relative paths resolve against the folder of the config file**, not the working directory, so the
  box finds the same files whether systemd, an installer or a test starts it. Absolute paths are kept.
  The file and folder fields are:
  ${CONFIG_PATH_FIELDS.map(code).join(', ')}.
- **Versions.** This agent reads config version ${CONFIG_VERSION}; an older file is migrated on load
  (\`config validate --print\` shows the migrated form to save), a newer one is refused (\`CONFIG_TOO_NEW\`).`;

function boxSections(): string[] {
  const root = jsonSchemaOf(boxConfigSchema);
  const sections: string[] = [];
  for (const [key, node] of Object.entries(root.properties ?? {})) {
    const required = root.required?.includes(key) ?? false;
    // An object is said in words above its table; a list or a value is a row like any field.
    const isObject = node.type === 'object';
    const presence = !isObject ? '' : required ? ' Required.' : ' Optional: every field below has a default.';
    const rows = [...(isObject ? [] : [{ path: key, node, required }]), ...fieldRows(node, key)];
    sections.push(`## ${code(key)}\n\n${node.description ?? ''}${presence}\n\n${fieldTable(rows)}`);
  }
  return sections;
}

function scenarioSections(scenarios: readonly ScenarioDefinition[]): string[] {
  const intro = [
    '## `scenarios`',
    'Which kinds of site decision this box makes. A scenario runs when its key is present; drivers feed ' +
      'it events (a sale, a card read) and it decides. Each has its own section below.',
  ].join('\n\n');
  const perScenario = scenarios.map((scenario) => {
    const schema = jsonSchemaOf(scenario.configSchema);
    const about = schema.description ? `\n\n${schema.description}` : '';
    return `### Scenario ${code(scenario.id)}${about}\n\n${fieldTable(fieldRows(schema, `scenarios.${scenario.id}`))}`;
  });
  return [intro, ...perScenario];
}

function driverSections(drivers: readonly DriverDefinition[]): string[] {
  const entryRows: FieldRow[] = [
    {
      path: 'drivers[].driver',
      node: { enum: drivers.map((d) => d.id), description: 'Which driver runs this entry.' },
      required: true,
    },
    {
      path: 'drivers[].config',
      node: { type: 'object', description: "The driver's own config: its section below." },
      required: true,
    },
    {
      path: 'drivers[].scenario',
      node: {
        type: 'string',
        description:
          'The scenario this driver feeds; needed only when two configured scenarios decide its events.',
      },
      required: false,
    },
  ];
  const intro = [
    '## `drivers`',
    'Terminal drivers on this box, one entry per serial line, HID reader or terminal group: ' +
      "`{ driver: <id>, config: { ... } }`. Each `config` is validated by that driver's schema, and " +
      'errors name it by index: `drivers[2].config.port.path`.',
    fieldTable(entryRows),
  ].join('\n\n');
  const perDriver = drivers.map((driver) => {
    const schema = jsonSchemaOf(driver.configSchema);
    const heading = `### Driver ${code(driver.id)}`;
    const about = schema.description ? `\n\n${schema.description}` : '';
    return `${heading}${about}\n\n${fieldTable(fieldRows(schema, 'config'))}`;
  });
  return [intro, ...perDriver];
}

/** The whole reference page, exactly as docs/configuration.md must hold it. */
export function renderConfigReference(
  drivers: readonly DriverDefinition[] = DRIVER_REGISTRY,
  scenarios: readonly ScenarioDefinition[] = SCENARIO_REGISTRY,
): string {
  return `${[INTRO, ...boxSections(), ...scenarioSections(scenarios), ...driverSections(drivers)].join('\n\n')}\n`;
}
