/**
 * "Did you mean" for a misspelt config key. Installers type keys from memory or from an old note
 * (`perTransactionLimit`, `quarantineDirectory`, `baudrate`), so a near miss gets the key it most likely
 * meant: the closest by edit distance (ignoring case), or a known key that starts with the typed one.
 */

/** Levenshtein distance: insertions, deletions and substitutions, one row at a time. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The known key the typed one most likely meant, or undefined when none is close enough to help. */
export function closestKey(typed: string, known: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  // Up to a third of the word may be wrong (at least 2 edits): `pert` is not `perTransactionLimitFen`.
  const budget = Math.max(2, Math.floor(typed.length / 3));
  let best: { key: string; score: number } | undefined;
  for (const key of known) {
    const candidate = key.toLowerCase();
    // A typed key that is a prefix of a known one missed a unit or a suffix (`perTransactionLimit`); one that
    // extends a known key spelt it out (`directory` for `dir`). Too short a prefix (`per`) says nothing.
    const sharesStem =
      (lower.length >= 4 && candidate.startsWith(lower)) ||
      (candidate.length >= 3 && lower.startsWith(candidate));
    const distance = editDistance(lower, candidate);
    if (distance > budget && !sharesStem) continue;
    const score = sharesStem ? Math.min(distance, 1) : distance;
    if (best === undefined || score < best.score) best = { key, score };
  }
  return best?.key;
}
