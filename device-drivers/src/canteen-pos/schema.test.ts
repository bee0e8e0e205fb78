import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { canteenPosDriver } from './index.ts';
import { canteenPosConfigSchema } from './schema.ts';

const base = {
  port: { path: '/dev/serial/by-id/usb-FTDI_FT232R_A5069RR4-if00-port0' },
  terminals: [{ id: 'till-1' }],
};

function issues(input: unknown): string[] {
  const r = canteenPosConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('canteen POS config schema', () => {
  it('fills the documented defaults', () => {
    const config = canteenPosConfigSchema.parse(base);
    expect(config).toMatchObject({
      port: { baudRate: 9600 },
      mode: 'rs232',
      terminals: [{ id: 'till-1', address: 1, protocol: 2 }],
      decisionBudgetMs: 500,
      ackTimeoutMs: 300,
      maxTries: 3,
      silenceTimeoutMs: 3000,
    });
    expect(canteenPosDriver.id).toBe('canteen-pos');
  });

  it('names the field that is wrong', () => {
    expect(issues({ ...base, port: { path: 'ttyUSB0' } })).toEqual([
      expect.stringMatching(/^port\.path: expected an absolute device path/),
    ]);
    expect(issues({ ...base, terminals: [{ id: 'a', address: 0 }] })[0]).toMatch(/^terminals\.0\.address/);
    expect(issues({ ...base, terminals: [{ id: 'a', address: 248 }] })[0]).toMatch(/^terminals\.0\.address/);
  });

  it('keeps RS-232 point to point and RS-485 addresses unique', () => {
    const two = [
      { id: 'a', address: 1 },
      { id: 'b', address: 1 },
    ];
    expect(issues({ ...base, terminals: two })).toContain(
      'terminals: rs232 is point to point: exactly one terminal per port, got 2',
    );
    expect(issues({ ...base, mode: 'rs485', terminals: two })).toEqual([
      'terminals.1.address: address 1 is already used by terminals[0]',
    ]);
    expect(
      issues({
        ...base,
        mode: 'rs485',
        terminals: [
          { id: 'a', address: 1 },
          { id: 'a', address: 2 },
        ],
      }),
    ).toEqual(['terminals.1.id: id "a" is already used by terminals[0]']);
  });

  it('refuses a silence timeout that one lost poll would trip', () => {
    expect(issues({ ...base, ackTimeoutMs: 1000, silenceTimeoutMs: 2000 })[0]).toMatch(
      /^silenceTimeoutMs: must exceed/,
    );
  });

  it('exports a JSON schema for the installer UI', () => {
    const json = z.toJSONSchema(canteenPosConfigSchema, { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<string, unknown>;
    };
    expect(Object.keys(json.properties)).toEqual(
      expect.arrayContaining(['port', 'mode', 'terminals', 'ackTimeoutMs']),
    );
  });

  it('refuses protocol 1 unless the terminal entry acknowledges it, naming the field', () => {
    expect(issues({ ...base, terminals: [{ id: 'a', protocol: 1 }] })).toEqual([
      expect.stringMatching(
        /^terminals\.0\.protocol: protocol 1 has no terminal authentication.*insecure: \{ posProtocolV1: true \}/,
      ),
    ]);
    expect(
      issues({ ...base, terminals: [{ id: 'a', protocol: 1, insecure: { posProtocolV1: true } }] }),
    ).toEqual([]);
    expect(issues({ ...base, terminals: [{ id: 'a', insecure: { posProtocolV1: true } }] })).toEqual([
      expect.stringMatching(/^terminals\.0\.insecure\.posProtocolV1: .*not needed/),
    ]);
    expect(
      canteenPosDriver.terminalFacts?.(
        canteenPosConfigSchema.parse({
          ...base,
          mode: 'rs485',
          terminals: [
            { id: 'a', address: 1 },
            { id: 'b', address: 2, protocol: 1, insecure: { posProtocolV1: true } },
          ],
        }),
      ),
    ).toEqual({ a: { protocol: 2, insecure: false }, b: { protocol: 1, insecure: true } });
  });

  it('keeps the decision budget inside the till wait, and points decisionWaitMs at it', () => {
    expect(issues({ ...base, decisionBudgetMs: 1000 })[0]).toMatch(/^decisionBudgetMs/);
    expect(issues({ ...base, decisionWaitMs: 2000 })).toEqual([
      expect.stringMatching(/^decisionWaitMs: decisionWaitMs is replaced by decisionBudgetMs/),
    ]);
  });
});
