import type { TillKey } from './v2.ts';

/**
 * The fixed inputs of the worked v2 example in docs/protocols/canteen-pos.md §12.8. Only a document
 * uses them: a real till key is 32 random bytes, and nonces are fresh random bytes for every session.
 */
export const EXAMPLE_ADDRESS = 0x01;
export const EXAMPLE_KEY: TillKey = { version: 1, key: Buffer.from(Array.from({ length: 32 }, (_, i) => i)) };
export const EXAMPLE_NT = Buffer.from(Array.from({ length: 16 }, (_, i) => 0xa0 + i));
export const EXAMPLE_NB = Buffer.from(Array.from({ length: 16 }, (_, i) => 0xb0 + i));
/** 2026-01-01 04:00:00 UTC, as in the v1 examples. */
export const EXAMPLE_TIME = 0x6955f140;
