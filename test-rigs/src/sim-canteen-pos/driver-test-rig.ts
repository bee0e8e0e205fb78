import { afterEach } from 'vitest';
import { type DriverHarness, type DriverHarnessOptions, startDriverHarness } from './driver-harness.ts';
import { type CanteenPosSim, type CanteenPosSimOptions, startCanteenPosSim } from './sim.ts';

/**
 * For the driver test files: what a test starts is closed after it (the simulator before the driver,
 * the reverse of starting), and `startTill` gives a driver and one simulated till on one line, up and
 * talking. Driver unit tests run on the memory line; call once at the top of a test file.
 */
export function driverRigPerTest(line: 'memory' | 'pty' = 'memory') {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });
  const closeAfterTest = <T extends { close(): Promise<void> }>(item: T): T => {
    open.push(item);
    return item;
  };
  const startHarness = async (driver: DriverHarnessOptions): Promise<DriverHarness> =>
    closeAfterTest(await startDriverHarness({ line, ...driver }));
  /** A simulator on the terminal's end of the harness's line. */
  const startSim = async (
    h: DriverHarness,
    simOptions: Partial<CanteenPosSimOptions> = {},
  ): Promise<CanteenPosSim> =>
    closeAfterTest(await startCanteenPosSim({ ...h.simLine, answerTimeoutMs: 400, ...simOptions }));
  return {
    closeAfterTest,
    startHarness,
    startSim,
    async startTill(
      driver: DriverHarnessOptions,
      simOptions: Partial<CanteenPosSimOptions> = {},
    ): Promise<{ h: DriverHarness; s: CanteenPosSim }> {
      const h = await startHarness(driver);
      const s = await startSim(h, simOptions);
      await h.driver.start();
      await h.waitForEvent((e) => e.type === 'terminal-up', 5000, 0);
      return { h, s };
    },
  };
}
