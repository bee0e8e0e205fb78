import { describe, expect, it } from 'vitest';
import { sm3, sm3Hex } from './sm3.ts';
import { openssl } from './test-support/openssl.ts';

// GB/T 32905-2016 Annex A examples.
describe('SM3 (GB/T 32905)', () => {
  it('hashes "abc" to the example 1 digest', () => {
    expect(sm3Hex('abc')).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('hashes "abcd" x16 (512 bits) to the example 2 digest', () => {
    expect(sm3Hex('abcd'.repeat(16))).toBe(
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
    );
  });

  it('agrees with openssl dgst -sm3 on binary input', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff));
    const out = openssl(['dgst', '-sm3', '-binary'], data);
    expect(sm3(data).equals(out)).toBe(true);
  });
});
