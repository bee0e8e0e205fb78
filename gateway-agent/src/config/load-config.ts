import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, resolve } from 'node:path';
import { resolveDrivers, terminalOwners } from '../drivers/driver-part.ts';
import { DRIVER_REGISTRY } from '../drivers/registry.ts';
import { GatewayError } from '../gateway-error.ts';
import { SCENARIO_REGISTRY } from '../scenarios/registry.ts';
import { type ConfigIssue, createIssueReader } from './config-issues.ts';
import { resolveConfigPaths } from './config-paths.ts';
import { buildBoxConfigSchema, type FullBoxConfig } from './driver-config.ts';
import { unacknowledgedInsecurity } from './insecure-exceptions.ts';
import { migrateConfig } from './migrations.ts';

export type { ConfigIssue } from './config-issues.ts';

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
  const reader = createIssueReader();
  const result = buildBoxConfigSchema().safeParse(migrated, { error: reader.errorMap });
  if (!result.success) throw new ConfigError(reader.issuesOf(result.error));
  const config = result.data as FullBoxConfig;
  const crossIssues = [...crossCheckConfig(config), ...unacknowledgedInsecurity(config)];
  if (crossIssues.length > 0) throw new ConfigError(crossIssues);
  return {
    config: options.baseDir === undefined ? config : resolveConfigPaths(config, options.baseDir),
    migratedFrom,
  };
}

/** What one field's schema cannot see: terminal ids unique across drivers, bindings naming real terminals. */
function crossCheckConfig(config: FullBoxConfig): ConfigIssue[] {
  // The schema has already matched every entry to a registered driver, so this resolves them all.
  const { owners: terminals, clashes } = terminalOwners(resolveDrivers(config.drivers, DRIVER_REGISTRY));
  if (clashes.length > 0) return clashes;
  return SCENARIO_REGISTRY.flatMap((scenario) => {
    const own = config.scenarios[scenario.id];
    return own === undefined ? [] : (scenario.crossCheck?.(own, terminals) ?? []);
  });
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
