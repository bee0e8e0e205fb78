import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONFIG_PATH_FIELDS } from './config-paths.ts';
import { buildBoxConfigSchema } from './driver-config.ts';
import { boxConfigSchema, RELATIVE_PATH_NOTE } from './schema.ts';

type JsonSchemaNode = {
  description?: string;
  additionalProperties?: unknown;
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  allOf?: JsonSchemaNode[];
};

/** Every property of every object anywhere in a JSON Schema, with its dotted path (`[]` for list items). */
function propertiesOf(node: JsonSchemaNode, path = ''): Array<{ path: string; node: JsonSchemaNode }> {
  const out: Array<{ path: string; node: JsonSchemaNode }> = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const childPath = path === '' ? key : `${path}.${key}`;
    out.push({ path: childPath, node: child }, ...propertiesOf(child, childPath));
  }
  if (node.items) out.push(...propertiesOf(node.items, `${path}[]`));
  for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])]) {
    out.push(...propertiesOf(branch, path));
  }
  return out;
}

/** Every object schema anywhere in a JSON Schema: properties, list items and union branches included. */
function objectsOf(node: JsonSchemaNode, path = '(root)'): Array<{ path: string; node: JsonSchemaNode }> {
  const here = node.properties ? [{ path, node }] : [];
  const children = [
    ...Object.entries(node.properties ?? {}).map(([key, child]) => objectsOf(child, `${path}.${key}`)),
    ...(node.items ? [objectsOf(node.items, `${path}[]`)] : []),
    ...[...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])].map((b) => objectsOf(b, path)),
  ];
  return [...here, ...children.flat()];
}

const jsonSchemaOf = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;

describe('box config schema as a product', () => {
  it('describes every field, in the box schema and every registered driver schema', () => {
    const fields = propertiesOf(jsonSchemaOf(buildBoxConfigSchema()));
    expect(fields.length).toBeGreaterThan(60);
    // Each driver's own fields are part of the walk (drivers[].config.*), not only the box's.
    expect(fields.map((f) => f.path)).toContain('drivers[].config.port.path');
    expect(fields.map((f) => f.path)).toContain('drivers[].config.vendorId');
    const undescribed = fields.filter((f) => !f.node.description?.trim()).map((f) => f.path);
    expect(undescribed).toEqual([]);
  });

  it('refuses unknown keys in every object, the box and every registered driver', () => {
    const objects = objectsOf(jsonSchemaOf(buildBoxConfigSchema()));
    // The walk reaches list items and each driver's entry (a union branch), not only nested properties.
    expect(objects.map((o) => o.path)).toContain('(root).drivers[].config.terminals[]');
    expect(objects.map((o) => o.path)).toContain('(root).drivers[]');
    const open = objects.filter((f) => f.node.additionalProperties !== false).map((f) => f.path);
    expect(open).toEqual([]);
  });

  it('lists every file and folder field for resolution against the config folder, and says so in its description', () => {
    const fields = propertiesOf(jsonSchemaOf(boxConfigSchema));
    const looksLikeAPath = fields
      .filter((f) => f.node.type === 'string' && /(^|\.)(path|dir)$|Path$|Dir$/.test(f.path))
      .map((f) => f.path);
    expect([...looksLikeAPath].sort()).toEqual([...CONFIG_PATH_FIELDS].sort());
    for (const field of fields.filter((f) => (CONFIG_PATH_FIELDS as readonly string[]).includes(f.path))) {
      expect(field.node.description, field.path).toContain(RELATIVE_PATH_NOTE);
    }
  });
});
