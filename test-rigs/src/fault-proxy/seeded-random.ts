/**
 * A small seeded PRNG (mulberry32: 32-bit state, full period 2^32) so that a fault run can be
 * replayed exactly from its seed. Not for cryptography: it only decides which faults fire and
 * which garbage bytes a client sees.
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** `n` pseudo-random bytes. */
  bytes(n: number): Buffer;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    next: () => nextUint32() / 2 ** 32,
    bytes(n) {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i += 4) {
        const word = nextUint32();
        for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
      }
      return out;
    },
  };
}
