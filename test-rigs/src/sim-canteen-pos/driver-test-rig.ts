import { afterEach } from 'vitest';
import { type DriverHarness, type DriverHarnessOptions, startDriverHarness } from './driver-harness.ts';
import { type CanteenPosSim, type CanteenPosSimOptions, startCanteenPosSim } from './sim.ts';

/**
 * For the driver test files: what a test starts is closed after it (the simulator before the driver,
 * the reverse of starting), and `startTill` gives a driver and one simulated till on a pty pair, up
 * and talking. Call once at the top of a test file.
 */
export function driverRigPerTest() {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });
  const closeAfterTest = <T extends { close(): Promise<void> }>(item: T): T => {
    open.push(item);
    return item;
  };
  return {
    closeAfterTest,
    async startTill(
      driver: DriverHarnessOptions,
      simOptions: Partial<CanteenPosSimOptions> = {},
    ): Promise<{ h: DriverHarness; s: CanteenPosSim }> {
      const h = closeAfterTest(await startDriverHarness(driver));
      const s = closeAfterTest(
        await startCanteenPosSim({ path: h.pair.b, answerTimeoutMs: 400, ...simOptions }),
      );
      await h.driver.start();
      await h.waitForEvent((e) => e.type === 'terminal-up', 5000, 0);
      return { h, s };
    },
  };
}
