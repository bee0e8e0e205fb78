import { isAbsolute, resolve } from 'node:path';

/**
 * Every file or folder field of the box config, by dotted path. A box is started by systemd from `/`,
 * by an installer from their home folder and by tests from the repository root: a relative path read
 * against the working directory would put the ledger somewhere different each time. So relative paths
 * mean "next to the config file", resolved once, here, right after parsing; absolute paths are kept.
 * A test checks this list against every `*Path` / `*Dir` / `path` / `dir` field of the schema.
 */
export const CONFIG_PATH_FIELDS = [
  'ledger.path',
  'ledger.quarantineDir',
  'keys.dir',
  'reconciliation.dir',
  'bank.tls.certPath',
  'bank.tls.keyPath',
  'bank.tls.caPath',
  'broker.tls.certPath',
  'broker.tls.keyPath',
  'broker.tls.caPath',
  'telemetry.passwordPath',
  'telemetry.caPath',
  'firmware.dir',
  'firmware.statePath',
  'firmware.apiTokenPath',
] as const;

function withResolvedField(node: unknown, keys: readonly string[], baseDir: string): unknown {
  const [key, ...rest] = keys;
  if (key === undefined || typeof node !== 'object' || node === null || !Object.hasOwn(node, key))
    return node;
  const record = node as Record<string, unknown>;
  const value = record[key];
  if (rest.length > 0) return { ...record, [key]: withResolvedField(value, rest, baseDir) };
  if (typeof value !== 'string' || isAbsolute(value)) return node;
  return { ...record, [key]: resolve(baseDir, value) };
}

/** A copy of a parsed config with every relative path field resolved against `baseDir` (the config's folder). */
export function resolveConfigPaths<T extends object>(config: T, baseDir: string): T {
  let out: unknown = config;
  for (const field of CONFIG_PATH_FIELDS) out = withResolvedField(out, field.split('.'), baseDir);
  // Only string leaves listed above were replaced by strings: the shape is T's.
  return out as T;
}
