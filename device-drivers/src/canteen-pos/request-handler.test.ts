import { describe, expect, it } from 'vitest';
import { quietDriverLogger } from '../test-support/driver-context.ts';
import { answerRequest, fitDisplayText, recordResultOf } from './request-handler.ts';

describe('screen text', () => {
  it('cuts display text at a UTF-8 character boundary', () => {
    const long = '余额不足请充值后再试'.repeat(3); // 30 characters, 90 bytes
    const fitted = fitDisplayText(long);
    expect(Buffer.byteLength(fitted, 'utf8')).toBeLessThanOrEqual(64);
    expect(fitted).toBe(long.slice(0, 21));
    expect(fitDisplayText('OK')).toBe('OK');
  });
});

describe('offline upload answers (RECORD_RESULT 0/1/2)', () => {
  it('maps the agent decision: recorded, recorded with its first finding, or not recorded with the reason', () => {
    expect(recordResultOf(1, { outcome: 'approved' })).toEqual({ receiptNo: 1, result: 'recorded' });
    expect(recordResultOf(2, { outcome: 'approved', findings: [] })).toEqual({
      receiptNo: 2,
      result: 'recorded',
    });
    expect(recordResultOf(3, { outcome: 'approved', findings: ['BLACKLISTED', 'DAILY_LIMIT'] })).toEqual({
      receiptNo: 3,
      result: 'flagged',
      reason: 'BLACKLISTED',
    });
    expect(recordResultOf(4, { outcome: 'declined', reason: 'DUPLICATE_RECEIPT', displayText: '' })).toEqual({
      receiptNo: 4,
      result: 'refused',
      reason: 'DUPLICATE_RECEIPT',
    });
  });

  it('submits no record whose MAC check fails, and still answers every record in order', async () => {
    const submitted: number[] = [];
    const forged: number[] = [];
    const answer = await answerRequest(
      {
        ctx: {
          logger: quietDriverLogger,
          submit: (async (event: { type: string; sale?: { receiptNo: number } }) => {
            submitted.push(event.sale?.receiptNo ?? -1);
            return { outcome: 'approved', findings: ['OFFLINE_LIMIT_REACHED'] };
          }) as never,
        },
        catalog: { priceList: () => ({ version: 0, items: [] }), blacklistVersion: () => 0 },
        checkRecordMac: (r) => (r.receiptNo === 11 ? 'forged' : null),
        onForgedRecord: (r) => forged.push(r.receiptNo),
      },
      'till-1',
      {
        type: 'offline-upload',
        records: [10, 11, 12].map((receiptNo) => ({
          kind: 'sale' as const,
          receiptNo,
          amountFen: 100,
          credential: { kind: 'card' as const, uidHex: '04A1B2C3' },
          terminalTime: 0,
        })),
      },
    );
    expect(submitted).toEqual([10, 12]);
    expect(forged).toEqual([11]);
    expect(answer).toEqual({
      type: 'upload-result',
      results: [
        { receiptNo: 10, result: 'flagged', reason: 'OFFLINE_LIMIT_REACHED' },
        { receiptNo: 11, result: 'refused', reason: 'RECORD_MAC_INVALID' },
        { receiptNo: 12, result: 'flagged', reason: 'OFFLINE_LIMIT_REACHED' },
      ],
    });
  });

  it('answers a status query from the agent, and NAKs BUSY (never "unknown") when the agent cannot say', async () => {
    const deps = (submit: () => Promise<unknown>) => ({
      ctx: { logger: quietDriverLogger, submit: submit as never },
      catalog: { priceList: () => ({ version: 0, items: [] }), blacklistVersion: () => 0 },
    });
    const query = { type: 'sale-status-query' as const, receiptNo: 5 };
    await expect(
      answerRequest(
        deps(async () => ({ state: 'declined', kind: 'sale', reason: 'BLACKLISTED' })),
        't',
        query,
      ),
    ).resolves.toEqual({
      type: 'sale-status',
      receiptNo: 5,
      status: { state: 'declined', kind: 'sale', reason: 'BLACKLISTED' },
    });
    await expect(
      answerRequest(
        deps(() => Promise.reject(new Error('down'))),
        't',
        query,
      ),
    ).rejects.toMatchObject({
      code: 'POS_BUSY',
    });
  });
});
