import { randomBytes } from 'node:crypto';
import { createHidTransportFactory, encodeKeyboardWedge, hidReaderDriver } from '@sceneway/device-drivers';
import { createFakeUsbBus, createTestDriverContext } from '@sceneway/device-drivers/testing';
import { type ConformanceRig, runDriverConformance } from './conformance-suite.ts';

/**
 * The HID reader driver through the conformance suite. USB HID has no pty: the fake bus replaces only
 * node-hid's device list and open; the HID transport factory, the driver and the keyboard-wedge decoder
 * are production code. The terminal side is a keyboard-wedge reader typing hex card UIDs.
 */
const PATH = '/dev/hidraw7';
const DEVICE = { vendorId: 0x1a86, productId: 0xe026, path: PATH, serialNumber: 'R-42' };
const TERMINAL_ID = 'window-3';

async function hidRig(): Promise<ConformanceRig> {
  const bus = createFakeUsbBus();
  bus.plug(DEVICE);
  // No decide functions: a HID reader never decides sales itself, and asking fails the check.
  const test = createTestDriverContext({ transports: createHidTransportFactory(bus.api) });
  const { events } = test;
  const config = hidReaderDriver.configSchema.parse({
    id: TERMINAL_ID,
    vendorId: DEVICE.vendorId,
    productId: DEVICE.productId,
    format: 'keyboard-wedge',
    reconnect: { initialDelayMs: 5, maxDelayMs: 50 },
  });
  const driver = hidReaderDriver.create(test.ctx, config);
  let card = 0;
  const credentials = () =>
    events.flatMap((e) =>
      e.type === 'credential-presented' && e.credential.kind === 'card' ? [e.credential.uidHex] : [],
    );

  return {
    driver,
    events,
    transportOpens: () => bus.opens(PATH),
    async traffic() {
      // A fresh UID each time, so a credential seen twice is a duplicate, not a second swipe.
      const uid = `04B0${(card++).toString(16).padStart(6, '0').toUpperCase()}`;
      for (const report of encodeKeyboardWedge(uid)) {
        if (!bus.send(PATH, report)) throw new Error('the reader is not open');
      }
      for (let i = 0; i < 400 && !credentials().includes(uid); i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (!credentials().includes(uid)) throw new Error(`card ${uid} typed but never presented`);
      return uid;
    },
    delivered: credentials,
    async junk() {
      // Reports of the wrong size (a misconfigured or failing reader) and the ErrorRollOver phantom state.
      bus.send(PATH, randomBytes(3));
      bus.send(PATH, randomBytes(64));
      bus.send(PATH, [0, 0, 1, 1, 1, 1, 1, 1]);
    },
    setSilent() {
      // A reader nobody presents a card to sends nothing at all: silence needs no switch.
    },
    async dropTransport() {
      bus.unplug(PATH);
    },
    async restoreTransport() {
      bus.plug(DEVICE);
    },
    async close() {
      await driver.stop();
      test.abort();
    },
  };
}

runDriverConformance({
  family: 'hid-reader (keyboard wedge) through the HID transport',
  silenceTimeoutMs: null,
  junkRaisesFrameError: true,
  setup: hidRig,
});
