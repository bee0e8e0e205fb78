import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchEnvelopeSchema, batchRecordSchema, isWellFormedRecord } from './batch-schema.ts';
import { parseBatchEnvelope } from './batch-v1.ts';
import { sampleSignedBatch } from './test-support/sample-batch.ts';

const built = sampleSignedBatch('box-1', 10);
// Records as the bank sees them: fresh from JSON.parse.
const wireRecords = (JSON.parse(built.body.toString()) as { batch: { records: object[] } }).batch.records;

/** Values that sit on the edges of what the record schema accepts. */
const edgy = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    '',
    'x',
    'x'.repeat(128),
    'x'.repeat(129),
    0,
    -1,
    1.5,
    2 ** 53,
    -(2 ** 53),
    Number.NaN,
    true,
    {},
    [],
    { a: 1.5 },
    { a: [1, { b: 2 }] },
    'a'.repeat(64),
    'A'.repeat(64),
    'a'.repeat(63),
    'a'.repeat(32),
    'a'.repeat(96),
    'a'.repeat(33),
    { iv: 'a'.repeat(32), ciphertext: 'b'.repeat(32) },
    { iv: 'a'.repeat(32), ciphertext: 'b'.repeat(32), extra: 1 },
    { iv: 'a'.repeat(32) },
    '2026-02-29T00:00:00.000Z',
    '2028-02-29T23:59:59.999Z',
    '2026-03-02T03:30:00Z',
    '2026-03-02T03:30:00.000+08:00',
    '2026-13-02T03:30:00.000Z',
  ),
  fc.jsonValue(),
);

const mutation = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    key: fc.constantFrom(...Object.keys(batchRecordSchema.shape)),
    value: edgy,
  }),
  fc.record({
    op: fc.constant('delete' as const),
    key: fc.constantFrom(...Object.keys(batchRecordSchema.shape)),
  }),
  fc.record({
    op: fc.constant('add' as const),
    key: fc.constantFrom('extra', '__proto__', 'constructor', 'hash2'),
    value: edgy,
  }),
);

describe('isWellFormedRecord, the hand-written record check', () => {
  it('accepts every record a real batch carries', () => {
    for (const r of wireRecords) {
      expect(isWellFormedRecord(r)).toBe(true);
      expect(batchRecordSchema.safeParse(r).success).toBe(true);
    }
  });

  it('never accepts a record the schema refuses', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...wireRecords),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (base, ops) => {
          // Rebuilt through JSON text, as the bank receives it (so "__proto__" is an own member).
          const r = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
          let text = JSON.stringify(r);
          const obj = JSON.parse(text) as Record<string, unknown>;
          for (const m of ops) {
            if (m.op === 'delete') delete obj[m.key];
            else if (m.op === 'set') obj[m.key] = m.value;
          }
          text = JSON.stringify(obj);
          for (const m of ops)
            if (m.op === 'add' && m.value !== undefined)
              text = `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(m.key)}:${JSON.stringify(m.value)}}`;
          const candidate: unknown = JSON.parse(text);
          if (isWellFormedRecord(candidate))
            expect(batchRecordSchema.safeParse(candidate).success).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('leaves the message to the schema: a bad record is refused naming its field', () => {
    const envelope = JSON.parse(built.body.toString()) as {
      batch: { records: Array<Record<string, unknown>> };
    };
    const third = envelope.batch.records[2];
    if (third) third.amountFen = 1.5;
    expect(batchEnvelopeSchema.safeParse(envelope).success).toBe(false);
    expect(() => parseBatchEnvelope(Buffer.from(JSON.stringify(envelope)))).toThrowError(
      expect.objectContaining({
        code: 'BATCH_MALFORMED',
        message: expect.stringContaining('batch.records[2].amountFen'),
      }),
    );
  });
});
