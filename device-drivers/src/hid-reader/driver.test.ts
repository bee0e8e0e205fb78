import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestDriverContext } from '../test-support/driver-context.ts';
import { createHidTransportFactory } from '../transports/hid-transport.ts';
import { createFakeUsbBus, type FakeUsbBus } from './fake-hid-api.ts';
import { VENDOR_FIXTURES, WEDGE_FIXTURES } from './fixtures/recorded-reports.ts';
import { hidReaderConfigSchema, hidReaderDriver } from './index.ts';
import { encodeKeyboardWedge } from './keyboard-wedge.ts';

const PATH = '/dev/hidraw7';
const DEVICE = { vendorId: 0x1a86, productId: 0xe026, path: PATH, serialNumber: 'R-42' };

function harness(bus: FakeUsbBus, config: Record<string, unknown>) {
  // No decide functions: a HID reader never decides sales itself, and asking fails the test.
  const test = createTestDriverContext({ transports: createHidTransportFactory(bus.api) });
  const { events } = test;
  const parsed = hidReaderDriver.configSchema.parse({
    id: 'window-3',
    vendorId: DEVICE.vendorId,
    productId: DEVICE.productId,
    reconnect: { initialDelayMs: 2, maxDelayMs: 20 },
    ...config,
  });
  const instance = hidReaderDriver.create(test.ctx, parsed);
  const brief = () =>
    events.map((e) =>
      e.type === 'credential-presented'
        ? `cred:${e.credential.kind === 'card' ? e.credential.uidHex : e.credential.token}`
        : e.type === 'terminal-down'
          ? `down:${e.reason.split(':')[0]}`
          : e.type === 'frame-error'
            ? `error:${e.code}`
            : 'up',
    );
  return { events, instance, brief, abort: test.abort };
}

/** Waits for a condition on the event log; fails the test (not a speed assertion) after a long grace. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}
const typeReports = (bus: FakeUsbBus, reports: ArrayLike<number>[]) => {
  for (const r of reports) bus.send(PATH, r);
};

describe('hid-reader driver', () => {
  it('follows a keyboard-wedge reader that appears, disappears and reappears', async () => {
    const bus = createFakeUsbBus();
    const { instance, brief } = harness(bus, { format: 'keyboard-wedge' });
    await instance.start();
    await instance.start();
    await until(() => bus.enumerations() >= 3, 'device-list polling');
    expect(brief()).toEqual(['down:HID_NOT_FOUND']); // polled several times, reported once

    bus.plug(DEVICE);
    await until(() => brief().includes('up'), 'terminal-up');
    typeReports(bus, WEDGE_FIXTURES[0]!.reports);
    await until(() => brief().length === 3, 'the card');

    bus.unplug(PATH);
    await until(() => brief().length === 4, 'terminal-down');
    const polls = bus.enumerations();
    await until(() => bus.enumerations() >= polls + 2, 'polling while unplugged');
    bus.plug(DEVICE);
    await until(() => brief().length === 5, 'terminal-up again');
    typeReports(bus, encodeKeyboardWedge('DEADBEEF'));
    await until(() => brief().length === 6, 'the second card');

    await instance.stop();
    await instance.stop();
    expect(bus.isOpen(PATH)).toBe(false);
    expect(brief()).toEqual([
      'down:HID_NOT_FOUND',
      'up',
      'cred:04A1B2C3D4E5F6',
      'down:HID_UNPLUGGED',
      'up',
      'cred:DEADBEEF',
      'down:driver stopped',
    ]);
    typeReports(bus, encodeKeyboardWedge('CAFEBABE'));
    expect(brief()).toHaveLength(7);
  });

  it('reads vendor reports, reports a corrupt one and keeps reading', async () => {
    const bus = createFakeUsbBus();
    bus.plug(DEVICE);
    const { instance, brief } = harness(bus, { format: 'vendor', serialNumber: 'R-42' });
    await instance.start();
    await until(() => brief().includes('up'), 'terminal-up');
    const [a, b] = VENDOR_FIXTURES;
    bus.send(PATH, a.report);
    const corrupt = [...b.report];
    corrupt[5] = corrupt[5]! ^ 0x10;
    bus.send(PATH, corrupt);
    bus.send(PATH, b.report);
    await until(() => brief().length === 4, 'three reports');
    expect(brief()).toEqual(['up', `cred:${a.uidHex}`, 'error:HID_VENDOR_CHECKSUM', `cred:${b.uidHex}`]);
    await instance.stop();
  });

  it('reports a reader held by another program as busy until it is released', async () => {
    const bus = createFakeUsbBus();
    bus.plug(DEVICE);
    bus.holdElsewhere(PATH, true);
    const { instance, brief, abort } = harness(bus, { format: 'keyboard-wedge' });
    await instance.start();
    await until(() => brief().length > 0, 'terminal-down');
    expect(brief()).toEqual(['down:HID_BUSY']);
    bus.holdElsewhere(PATH, false);
    await until(() => brief().includes('up'), 'terminal-up');
    typeReports(bus, encodeKeyboardWedge('not a card'));
    await until(() => brief().length === 3, 'frame-error');
    expect(brief()[2]).toBe('error:HID_WEDGE_TEXT');
    // The agent's shutdown signal alone stops the driver too.
    abort();
    await instance.stop();
    expect(bus.isOpen(PATH)).toBe(false);
  });

  it('validates its config and names the field', () => {
    expect(() =>
      hidReaderConfigSchema.parse({ id: 'r', vendorId: 0x1_0000, productId: 1, format: 'vendor' }),
    ).toThrow(/vendorId/);
    expect(() =>
      hidReaderConfigSchema.parse({ id: 'r', vendorId: 1, productId: 1, format: 'vendor', baud: 1 }),
    ).toThrow();
    expect(
      hidReaderConfigSchema.parse({
        driver: 'hid-reader',
        id: 'r',
        vendorId: 1,
        productId: 2,
        format: 'keyboard-wedge',
      }),
    ).toMatchObject({ cardText: 'hex', idleResetMs: 500, reconnect: { initialDelayMs: 250 } });
    expect(z.toJSONSchema(hidReaderConfigSchema, { io: 'input' })).toMatchObject({ type: 'object' });
  });
});
