import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { ConfigIssue } from '../config/config-issues.ts';
import type { FullBoxConfig } from '../config/driver-config.ts';
import { ConfigError, parseBoxConfig, readConfigDocument } from '../config/load-config.ts';
import { migrateConfig } from '../config/migrations.ts';
import { GatewayError } from '../gateway-error.ts';

/**
 * The installer edits the box config file itself: the document as written (relative paths stay
 * relative, older versions are shown migrated), checked by the very parser `sceneway start` loads with,
 * and saved atomically beside a backup of what was there.
 */
export type ConfigCheck = { ok: true; config: FullBoxConfig } | { ok: false; issues: ConfigIssue[] };

export function readEditableConfig(file: string): Record<string, unknown> {
  const { doc } = migrateConfig(readConfigDocument(file));
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new GatewayError(
      'CONFIG_SYNTAX',
      `${file}: the config is not a mapping`,
      'Fix the file by hand once.',
    );
  }
  return doc as Record<string, unknown>;
}

/** The same parse (schema, cross checks, insecure acknowledgements) the agent starts with. */
export function checkConfigDocument(doc: unknown, file: string): ConfigCheck {
  try {
    return { ok: true, config: parseBoxConfig(doc, { baseDir: dirname(resolve(file)) }).config };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, issues: err.issues };
    if (err instanceof GatewayError) return { ok: false, issues: [{ path: '(root)', message: err.message }] };
    throw err;
  }
}

const requireLazily = createRequire(import.meta.url);

function serialize(file: string, doc: unknown): string {
  if (extname(file) === '.json') return `${JSON.stringify(doc, null, 2)}\n`;
  const yaml = requireLazily('yaml') as typeof import('yaml');
  return `# Saved by the Sceneway installer UI; the previous file is ${basename(file)}.bak\n${yaml.stringify(doc)}`;
}

/**
 * Writes a checked document: a temporary file beside it (same mode, fsynced), the current file copied
 * to `<file>.bak`, then a rename over the original and an fsync of the folder, so a power cut leaves
 * either the old config or the new one, never half of either. YAML comments of the old file survive
 * only in the backup.
 */
export function saveConfigDocument(file: string, doc: unknown): { backup: string | null } {
  const target = resolve(file);
  const backup = `${target}.bak`;
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  const mode = existsSync(target) ? statSync(target).mode & 0o777 : 0o600;
  try {
    const fd = openSync(temp, 'w', mode);
    try {
      writeSync(fd, serialize(target, doc));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const hadOne = existsSync(target);
    if (hadOne) copyFileSync(target, backup);
    renameSync(temp, target);
    const dirFd = openSync(dirname(target), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return { backup: hadOne ? backup : null };
  } catch (cause) {
    throw new GatewayError(
      'INSTALLER_CONFIG_FILE',
      `cannot write the box config ${target}`,
      'Check that the agent may write to the config folder.',
      { cause },
    );
  }
}
