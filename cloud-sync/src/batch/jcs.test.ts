import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalBytesReference } from './jcs.ts';

describe('JCS (RFC 8785)', () => {
  it('sorts members by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Read the order from the text: JS objects would list the integer-like key "1" first.
    const text = canonicalBytes(input).toString('utf8');
    const order = Object.values(input).sort((a, b) => text.indexOf(a) - text.indexOf(b));
    expect(order).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(text.startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"')).toBe(true);
  });

  it('writes no whitespace, escapes only what JSON requires, and keeps UTF-8 as is', () => {
    expect(canonicalBytes({ b: [1, -2, null, true], a: '京A12345\n"' }).toString('utf8')).toBe(
      '{"a":"京A12345\\n\\"","b":[1,-2,null,true]}',
    );
  });

  it('refuses values that are not JSON', () => {
    expect(() => canonicalBytes(undefined)).toThrowError(
      expect.objectContaining({ code: 'BATCH_MALFORMED' }),
    );
  });

  it('keeps a member named __proto__ (JSON.parse creates it as an own member)', () => {
    const parsed = JSON.parse('[{"__proto__":null,"a":1}]') as unknown;
    expect(canonicalBytes(parsed).toString()).toBe('[{"__proto__":null,"a":1}]');
    expect(canonicalBytes(parsed).equals(canonicalBytesReference(parsed))).toBe(true);
  });

  it('fast path writes exactly what the canonicalize library writes, for any JSON value', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string({ unit: 'binary' }),
        fc.maxSafeInteger(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 5 }),
        fc.dictionary(fc.oneof(fc.string({ unit: 'binary' }), fc.nat().map(String)), tie('value'), {
          maxKeys: 6,
        }),
      ),
    })).value;
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalBytes(v).equals(canonicalBytesReference(v))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a lone surrogate with BATCH_LONE_SURROGATE (RFC 8785 §3.2.2.2), in values and keys', () => {
    for (const bad of ['x\ud800y', '\udfff', 'a\ud83d', '\\\ud800']) {
      for (const value of [bad, { [bad]: 1 }, [{ a: bad }], { b: [bad], '1': 0 }]) {
        expect(() => canonicalBytes(value)).toThrowError(
          expect.objectContaining({ code: 'BATCH_LONE_SURROGATE' }),
        );
        expect(() => canonicalBytesReference(value)).toThrowError(
          expect.objectContaining({ code: 'BATCH_LONE_SURROGATE' }),
        );
      }
    }
    // The text "\ud800" (a backslash, then letters) and a surrogate pair are well-formed.
    expect(canonicalBytes(['\\ud800', '\\\\ud800', '\ud83d\ude00']).toString('utf8')).toBe(
      '["\\\\ud800","\\\\\\\\ud800","\ud83d\ude00"]',
    );
  });

  it('for any string of UTF-16 code units: throws BATCH_LONE_SURROGATE, or writes UTF-8 that round-trips', () => {
    // Code units, not code points: lone surrogates, pairs and backslashes all come up often.
    const unit = fc.oneof(
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.constantFrom(0x5c, 0x75, 0x64, 0x22),
      fc.integer({ min: 0, max: 0xffff }),
    );
    const text = fc.array(unit, { maxLength: 12 }).map((units) => String.fromCharCode(...units));
    const decoder = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(text, text, (value, key) => {
        // Node's UTF-8 encoder turns a lone surrogate into U+FFFD: an oracle independent of jcs.ts.
        const wellFormed = [value, key].every((t) => Buffer.from(t, 'utf8').toString('utf8') === t);
        let bytes: Buffer;
        try {
          bytes = canonicalBytes({ [key]: [value] });
        } catch (error) {
          expect(error).toMatchObject({ code: 'BATCH_LONE_SURROGATE' });
          expect(wellFormed).toBe(false);
          return;
        }
        expect(wellFormed).toBe(true);
        expect(JSON.parse(decoder.decode(bytes))).toEqual({ [key]: [value] });
      }),
      { numRuns: 3000 },
    );
  });
});
