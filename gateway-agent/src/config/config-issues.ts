import { z } from 'zod';
import { closestKey } from './did-you-mean.ts';

/**
 * Turns zod's issues into the installer's: one line per problem, named by its full path, saying what
 * was expected and, for a misspelt key or driver id, what was most likely meant.
 */

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

/**
 * A zod error map plus the reader of the error it produces. The map runs while each issue still carries
 * the object schema that raised it: the only moment that object's accepted keys are at hand.
 */
export function createIssueReader(): {
  errorMap: z.core.$ZodErrorMap;
  issuesOf: (error: z.ZodError) => ConfigIssue[];
} {
  const knownKeys = new Map<string, readonly string[]>();
  return {
    errorMap: (issue) => {
      if (issue.code === 'unrecognized_keys' && issue.inst instanceof z.ZodObject) {
        knownKeys.set(formatPath(issue.path ?? []), Object.keys(issue.inst.shape));
      }
      if (issue.code === 'invalid_union') return unknownVariantMessage(issue);
      return undefined;
    },
    issuesOf: (error) => issuesOf(error, knownKeys),
  };
}
