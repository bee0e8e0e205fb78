import { describe, expect, it } from 'vitest';
import type { DriverLogger } from '../driver-api.ts';
import { createTestDriverContext } from '../test-support/driver-context.ts';
import { createMemoryTransports } from '../transports/memory-transport.ts';
import { createCanteenPosDriver } from './driver.ts';
import { canteenPosConfigSchema } from './schema.ts';

/** What the driver says at start about tills that cannot authenticate (POS v2 contract, "v1 tills"). */
describe('canteen POS driver start-up warnings', () => {
  it('warns and alerts for a protocol-1 till and for a v2 till with no key, naming the provisioning command', async () => {
    const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const logger: DriverLogger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (fields, message) =>
        warnings.push({ fields: fields as Record<string, unknown>, message: message ?? '' }),
      error: () => undefined,
    };
    const memory = createMemoryTransports();
    memory.port('/dev/ttyMEM-start');
    const test = createTestDriverContext({
      transports: memory,
      logger,
      terminalKeys: (id) => (id === 'keyed' ? [{ version: 1, key: Buffer.alloc(32, 7) }] : []),
    });
    const driver = createCanteenPosDriver(
      test.ctx,
      canteenPosConfigSchema.parse({
        port: { path: '/dev/ttyMEM-start' },
        mode: 'rs485',
        terminals: [
          { id: 'keyed', address: 1 },
          { id: 'unkeyed', address: 2 },
          { id: 'old', address: 3, protocol: 1, insecure: { posProtocolV1: true } },
        ],
      }),
    );
    try {
      await driver.start();
      const alerts = test.events.flatMap((e) =>
        e.type === 'terminal-alert' ? [[e.terminalId, e.code]] : [],
      );
      expect(alerts).toEqual([
        ['unkeyed', 'POS_KEY_MISSING'],
        ['old', 'POS_PROTOCOL_V1'],
      ]);
      expect(warnings.map((w) => w.message)).toEqual(
        expect.arrayContaining([
          expect.stringContaining('`sceneway terminal provision unkeyed`'),
          expect.stringContaining('old runs POS protocol 1 by insecure.posProtocolV1'),
        ]),
      );
      expect(JSON.stringify(warnings)).not.toContain('0707070707');
    } finally {
      await driver.stop();
      test.abort();
    }
  });
});
