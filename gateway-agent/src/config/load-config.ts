import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { GatewayError } from '../gateway-error.ts';
import { resolveConfigPaths } from './config-paths.ts';
import { closestKey } from './did-you-mean.ts';
import { buildBoxConfigSchema, type FullBoxConfig } from './driver-config.ts';
import { migrateConfig } from './migrations.ts';

export interface ConfigIssue {
  /** Dotted path with indices, e.g. `drivers[2].config.port`. */
  path: string;
  message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * One issue per problem, each named by its full path. zod reports unknown keys as one issue on the
 * enclosing object; the installer needs the key itself (`limits.perTransactionLimit: unknown key`) and,
 * for a near miss, the key that was meant. `knownKeys` maps an object's path to the keys it accepts.
 */
function issuesOf(error: z.ZodError, knownKeys: ReadonlyMap<string, readonly string[]>): ConfigIssue[] {
  return error.issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [{ path: formatPath(issue.path), message: issue.message }];
    const known = knownKeys.get(formatPath(issue.path)) ?? [];
    return issue.keys.map((key) => {
      const meant = closestKey(key, known);
      return {
        path: formatPath([...issue.path, key]),
        message: meant === undefined ? 'unknown key' : `unknown key; did you mean \`${meant}\`?`,
      };
    });
  });
}

/** `drivers[i].driver` naming no registered driver: say which ones exist, and the likely one. */
function unknownVariantMessage(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidUnion>): string | undefined {
  const options: unknown = 'options' in issue ? issue.options : undefined;
  if (issue.discriminator === undefined || !Array.isArray(options)) return undefined;
  const known = options.map(String);
  const value =
    typeof issue.input === 'object' && issue.input !== null
      ? (issue.input as Record<string, unknown>)[issue.discriminator]
      : undefined;
  const expected = `expected one of ${known.join(', ')}`;
  if (typeof value !== 'string')
    return `${expected}${value === undefined ? '' : `, got ${JSON.stringify(value)}`}`;
  const meant = closestKey(value, known);
  return `unknown ${issue.discriminator} "${value}"; ${meant === undefined ? expected : `did you mean \`${meant}\`?`}`;
}

export interface ParseOptions {
  /** Folder that relative path fields resolve against (the config file's); absent = left as written. */
  baseDir?: string;
}

/** Parses a config document (already read) into a validated config, migrating older versions first. */
export function parseBoxConfig(
  doc: unknown,
  options: ParseOptions = {},
): { config: FullBoxConfig; migratedFrom: number | null } {
  const { doc: migrated, migratedFrom } = migrateConfig(doc);
  const knownKeys = new Map<string, readonly string[]>();
  const result = buildBoxConfigSchema().safeParse(migrated, {
    // Runs while the issue still carries the object schema that raised it: the only moment its keys are at hand.
    error: (issue) => {
      if (issue.code === 'unrecognized_keys' && issue.inst instanceof z.ZodObject) {
        knownKeys.set(formatPath(issue.path ?? []), Object.keys(issue.inst.shape));
      }
      if (issue.code === 'invalid_union') return unknownVariantMessage(issue);
      return undefined;
    },
  });
  if (!result.success) throw new ConfigError(issuesOf(result.error, knownKeys));
  const config = result.data as FullBoxConfig;
  return {
    config: options.baseDir === undefined ? config : resolveConfigPaths(config, options.baseDir),
    migratedFrom,
  };
}

export class ConfigError extends GatewayError {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      'CONFIG_INVALID',
      `config is invalid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      'Fix the fields named above; `sceneway config schema` prints every field with its type.',
    );
  }
}

// The YAML parser is loaded only for YAML files: it is ~40 ms of every agent start otherwise.
const requireLazily = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (requireLazily('yaml') as typeof import('yaml')).parse(text);
}

/** Reads YAML (.yaml/.yml) or JSON (.json) from disk; syntax errors name the line. */
export function readConfigDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new GatewayError(
      'CONFIG_UNREADABLE',
      `cannot read config file ${file}`,
      'Check the path and permissions.',
      {
        cause,
      },
    );
  }
  try {
    return extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new GatewayError(
      'CONFIG_SYNTAX',
      `${file}: ${detail}`,
      'Fix the syntax error at the position shown.',
      {
        cause,
      },
    );
  }
}

/** Reads and parses a config file; relative paths in it resolve against the file's own folder. */
export function loadBoxConfig(file: string): { config: FullBoxConfig; migratedFrom: number | null } {
  return parseBoxConfig(readConfigDocument(file), { baseDir: dirname(resolve(file)) });
}
