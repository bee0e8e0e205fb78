import { statfsSync } from 'node:fs';

/** Free space (MiB) available to this process on the filesystem holding `dir`. */
export function freeSpaceMb(dir: string): number {
  const s = statfsSync(dir);
  return (s.bavail * s.bsize) / (1024 * 1024);
}

/**
 * Caches the free-space reading for a short while: group commits run hundreds of times a second and
 * statfs need not run each time; a floor measured in tens of MiB does not move that fast.
 */
export function cachedFreeSpace(dir: string, maxAgeMs = 250, now = () => Date.now()): () => number {
  let at = Number.NEGATIVE_INFINITY;
  let value = 0;
  return () => {
    const t = now();
    if (t - at > maxAgeMs) {
      value = freeSpaceMb(dir);
      at = t;
    }
    return value;
  };
}
