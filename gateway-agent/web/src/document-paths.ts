import type { ConfigDocument, ConfigIssue } from './api.ts';

/**
 * Fields are named by the path the agent's config issues use (config-issues.ts formatPath):
 * `bank.url`, `drivers[0].config.port.path`, `drivers[0].config.terminals[1].address`. The same string
 * finds a value in the document, writes it, and matches the issues to show beside the field.
 */
export type PathKey = string | number;

export function parsePath(path: string): PathKey[] {
  const keys: PathKey[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new Error(`bad path ${path}`);
    if (m[1]) keys.push(m[1]);
    for (const index of m[2]!.matchAll(/\[(\d+)\]/g)) keys.push(Number(index[1]));
  }
  return keys;
}

export function getIn(doc: unknown, path: string): unknown {
  let at: unknown = doc;
  for (const key of parsePath(path)) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PathKey, unknown>)[key];
  }
  return at;
}

/** A copy of the document with one value set (undefined removes the key: the schema's default applies). */
export function setIn(doc: ConfigDocument, path: string, value: unknown): ConfigDocument {
  const keys = parsePath(path);
  const write = (node: unknown, i: number): unknown => {
    const key = keys[i]!;
    const copy = (Array.isArray(node) ? [...node] : { ...((node ?? {}) as object) }) as Record<
      PathKey,
      unknown
    >;
    if (i === keys.length - 1) {
      if (value === undefined && !Array.isArray(copy)) delete copy[key];
      else copy[key] = value;
    } else {
      const next = copy[key];
      copy[key] = write(next ?? (typeof keys[i + 1] === 'number' ? [] : {}), i + 1);
    }
    return copy;
  };
  return write(doc, 0) as ConfigDocument;
}

/** The issues of one field: its own path, and an unknown key or refinement just below it. */
export function issuesFor(issues: readonly ConfigIssue[], path: string): ConfigIssue[] {
  return issues.filter((i) => i.path === path);
}

/** Issues under any of these prefixes (a step's own fields), e.g. `bank` matches `bank.url`. */
export function issuesUnder(issues: readonly ConfigIssue[], prefixes: readonly string[]): ConfigIssue[] {
  return issues.filter((i) =>
    prefixes.some((p) => i.path === p || i.path.startsWith(`${p}.`) || i.path.startsWith(`${p}[`)),
  );
}
