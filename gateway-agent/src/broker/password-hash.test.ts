import { mqttLoginSchema } from '@sceneway/device-drivers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decoyPasswordHash,
  hashPassword,
  parsePasswordHash,
  verifyPassword,
  verifyPasswordAsync,
} from './password-hash.ts';

const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');

describe('decoyPasswordHash', () => {
  it('parses as a hash of the default cost that no password matches', async () => {
    const decoy = decoyPasswordHash();
    const real = parsePasswordHash(hashPassword('x'));
    expect(parsePasswordHash(decoy)).toMatchObject({ N: real?.N, r: real?.r, p: real?.p });
    expect(await verifyPasswordAsync('x', decoy)).toBe(false);
    expect(await verifyPasswordAsync('', decoy)).toBe(false);
    expect(decoyPasswordHash()).not.toBe(decoy);
  });
});

describe('hashPassword / verifyPassword', () => {
  it('verifies the password it hashed and nothing else', async () => {
    const hash = hashPassword('canteen-reader-1 secret');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(verifyPassword('canteen-reader-1 secret', hash)).toBe(true);
    expect(verifyPassword('canteen-reader-1 secreT', hash)).toBe(false);
    expect(verifyPassword('', hash)).toBe(false);
    expect(await verifyPasswordAsync('canteen-reader-1 secret', hash)).toBe(true);
    expect(await verifyPasswordAsync(Buffer.from('canteen-reader-1 secret'), hash)).toBe(true);
    expect(await verifyPasswordAsync('wrong', hash)).toBe(false);
  });

  it('salts every hash, and the config schema accepts the result', () => {
    const [a, b] = [hashPassword('same'), hashPassword('same')];
    expect(a).not.toBe(b);
    expect(verifyPassword('same', a) && verifyPassword('same', b)).toBe(true);
    const parsed = mqttLoginSchema.safeParse({ username: 'face-1', passwordHash: a });
    expect(parsed.success).toBe(true);
  });

  it('hashes non-ASCII passwords as UTF-8', () => {
    const hash = hashPassword('食堂读卡器-密码');
    expect(verifyPassword('食堂读卡器-密码', hash)).toBe(true);
    expect(verifyPassword('食堂读卡器-密玛', hash)).toBe(false);
  });

  it('agrees with the scrypt test vector of RFC 7914 §12 (an independent implementation)', () => {
    const key = Buffer.from(
      '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2' +
        'd5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887',
      'hex',
    );
    const hash = `scrypt$16384$8$1$${b64('SodiumChloride')}$${b64(key)}`;
    expect(verifyPassword('pleaseletmein', hash)).toBe(true);
    expect(verifyPassword('pleaseletmeim', hash)).toBe(false);
  });
});

describe('malformed hashes', () => {
  const good = hashPassword('x');
  const [, , , , salt, key] = good.split('$');
  const cases: Record<string, string> = {
    empty: '',
    'wrong scheme': good.replace(/^scrypt/, 'bcrypt'),
    'missing field': `scrypt$32768$8$1$${salt}`,
    'extra field': `${good}$x`,
    'N not a power of two': `scrypt$30000$8$1$${salt}$${key}`,
    'N too large (would allocate gigabytes)': `scrypt$1073741824$8$1$${salt}$${key}`,
    'N too small': `scrypt$16$8$1$${salt}$${key}`,
    'r zero': `scrypt$32768$0$1$${salt}$${key}`,
    'leading zero': `scrypt$032768$8$1$${salt}$${key}`,
    'p negative': `scrypt$32768$8$-1$${salt}$${key}`,
    'salt not base64': `scrypt$32768$8$1$sa!t$${key}`,
    'salt too short': `scrypt$32768$8$1$${b64('abc')}$${key}`,
    'key truncated': `scrypt$32768$8$1$${salt}$${b64('0123456789')}`,
    'key not canonical base64': `scrypt$32768$8$1$${salt}$${key?.replace('=', '')}`,
  };
  for (const [name, hash] of Object.entries(cases)) {
    it(`refuses ${name} without throwing`, async () => {
      expect(parsePasswordHash(hash)).toBeNull();
      expect(verifyPassword('x', hash)).toBe(false);
      expect(await verifyPasswordAsync('x', hash)).toBe(false);
    });
  }

  it('never throws on arbitrary input or on a mutated valid hash', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (password, hash) => verifyPassword(password, hash) === false),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (at, ch) => {
        const mutated = good.slice(0, at) + ch + good.slice(at + 1);
        const result = verifyPassword('x', mutated);
        return mutated === good ? result : result === false;
      }),
      { numRuns: 40 },
    );
  });
});
