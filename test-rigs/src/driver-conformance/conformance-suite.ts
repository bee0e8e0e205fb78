import type { DriverInstance } from '@sceneway/device-drivers';
import type { DeviceEvent } from '@sceneway/device-drivers/testing';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * The shared driver conformance suite (STYLE.md "Every driver passes one shared driver conformance
 * suite"), in the spirit of aedes' abstract persistence tests: one set of checks, run against every
 * driver family through a kit that knows how to start that family's real driver on a real transport
 * and how to make the terminal side talk, go quiet, babble or vanish. Nothing here knows a protocol.
 */

/** One driver on one transport with its terminal side, as a kit sets it up for a single check. */
export interface ConformanceRig {
  /** Created through the family's DriverDefinition.create, not yet started. */
  readonly driver: DriverInstance;
  /** Every event the driver passed to ctx.emit, in order. */
  readonly events: readonly DeviceEvent[];
  /** Successful transport opens through the context's factory so far. */
  transportOpens(): number;
  /**
   * The terminal side produces one unit of traffic (a sale, a card read) with a fresh identity and
   * resolves with its key once the driver has handled it; rejects if the driver did not.
   */
  traffic(): Promise<string>;
  /** Keys of every decision asked / credential emitted by the driver so far, duplicates kept. */
  delivered(): readonly string[];
  /** The terminal side sends bytes that are no valid frame / report. */
  junk(): Promise<void>;
  /** The terminal stops (true) or resumes (false) answering, with the transport left up. */
  setSilent(silent: boolean): void;
  /** The transport disappears (cable or USB device pulled). */
  dropTransport(): Promise<void>;
  /** The same transport comes back (replug) and the terminal side is reattached. */
  restoreTransport(): Promise<void>;
  close(): Promise<void>;
}

export interface ConformanceKit {
  /** Driver family under test, used in the describe title. */
  family: string;
  /**
   * The configured silence timeout, or null for a family that has none (a passive reader is silent
   * between reads by design): then the suite checks that silence is *not* reported as down.
   */
  silenceTimeoutMs: number | null;
  /** True when the family reports junk as frame-error events; false when it may drop junk silently. */
  junkRaisesFrameError: boolean;
  setup(): Promise<ConformanceRig>;
}

/** Upper bound on any single wait: a liveness limit for a hung driver, never a speed assertion. */
const WAIT_MS = 5000;
/** Time given to a stopped driver to show a leaked timer or a late event. */
const AFTER_STOP_MS = 300;
const BURST = 8;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await pause(5);
  }
}

const eventAfter = (rig: ConformanceRig, since: number, type: DeviceEvent['type'], timeoutMs?: number) =>
  until(() => rig.events.slice(since).find((e) => e.type === type), `a ${type} event`, timeoutMs);

const upDown = (rig: ConformanceRig, since: number) =>
  rig.events
    .slice(since)
    .flatMap((e) => (e.type === 'terminal-up' || e.type === 'terminal-down' ? [e.type] : []));

/** Pending timers and immediates of this process: what a stopped driver must not leave behind. */
const liveTimers = () =>
  process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;

const duplicates = (keys: readonly string[]) => keys.filter((k, i) => keys.indexOf(k) !== i);

export function runDriverConformance(kit: ConformanceKit): void {
  describe(`driver conformance: ${kit.family}`, () => {
    let rig: ConformanceRig | undefined;
    afterEach(async () => {
      await rig?.close();
      rig = undefined;
    });

    async function startedRig(): Promise<ConformanceRig> {
      rig = await kit.setup();
      await rig.driver.start();
      await eventAfter(rig, 0, 'terminal-up');
      return rig;
    }

    it('start() twice and stop() twice are harmless, and stop leaves no timers or late events', async () => {
      const r = await kit.setup();
      rig = r;
      const timersBefore = liveTimers();
      await Promise.all([r.driver.start(), r.driver.start()]);
      await r.driver.start();
      await eventAfter(r, 0, 'terminal-up');
      await r.traffic();
      await pause(AFTER_STOP_MS);
      // One session: a second start must not open the transport again nor report the terminal twice.
      expect(r.transportOpens()).toBe(1);
      expect(upDown(r, 0)).toEqual(['terminal-up']);

      await Promise.all([r.driver.stop(), r.driver.stop()]);
      await r.driver.stop();
      const afterStop = r.events.length;
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(liveTimers()).toBeLessThanOrEqual(timersBefore);
      await pause(AFTER_STOP_MS);
      expect(r.events.slice(afterStop)).toEqual([]);
      expect(r.transportOpens()).toBe(1);
    });

    it('reports the terminal down when the transport drops, up after restore, and traffic works again', async () => {
      const r = await startedRig();
      await r.traffic();
      const since = r.events.length;
      await r.dropTransport();
      await eventAfter(r, since, 'terminal-down');
      await r.restoreTransport();
      await until(() => (upDown(r, since).at(-1) === 'terminal-up' ? true : undefined), 'terminal-up');
      const key = await r.traffic();
      expect(r.delivered().filter((k) => k === key)).toHaveLength(1);
      // Edges only: one down and one up, no flapping while the transport was away.
      expect(upDown(r, since)).toEqual(['terminal-down', 'terminal-up']);
    });

    it('stop() while the transport is away (reconnect backoff) leaves no timers and no late events', async () => {
      const r = await kit.setup();
      rig = r;
      const timersBefore = liveTimers();
      await r.driver.start();
      await eventAfter(r, 0, 'terminal-up');
      const since = r.events.length;
      await r.dropTransport();
      await eventAfter(r, since, 'terminal-down');
      // Let the driver reach its retry loop, where a backoff timer is pending most of the time.
      await pause(AFTER_STOP_MS);
      await r.driver.stop();
      const afterStop = r.events.length;
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(liveTimers()).toBeLessThanOrEqual(timersBefore);
      await r.restoreTransport();
      await pause(AFTER_STOP_MS);
      // A stopped driver must not notice the transport coming back.
      expect(r.events.slice(afterStop)).toEqual([]);
    });

    it('survives junk bytes: frame errors at most, never a crash, and the next good request works', async () => {
      const r = await startedRig();
      await r.traffic();
      const since = r.events.length;
      await r.junk();
      if (kit.junkRaisesFrameError) await eventAfter(r, since, 'frame-error');
      const key = await r.traffic();
      expect(r.delivered().filter((k) => k === key)).toHaveLength(1);
      const after = r.events.slice(since);
      expect(after.some((e) => e.type === 'terminal-down')).toBe(false);
      for (const e of after) {
        if (e.type !== 'frame-error') continue;
        expect(e.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
        expect(e.terminalId.length).toBeGreaterThan(0);
      }
    });

    const silence = kit.silenceTimeoutMs;
    if (silence !== null) {
      it(`reports a silent terminal down within its silence timeout (${silence} ms) and up when it answers again`, async () => {
        const r = await startedRig();
        await r.traffic();
        const since = r.events.length;
        const silentFrom = Date.now();
        r.setSilent(true);
        // The bound is the configured timeout plus one watchdog period and scheduling slack: a driver
        // with no silence detection, or one that waits for several timeouts, fails here.
        await eventAfter(r, since, 'terminal-down', Math.round(silence * 1.5) + 250);
        // Not on the first missed answer either: the terminal was heard just before it went silent.
        expect(Date.now() - silentFrom).toBeGreaterThanOrEqual(silence / 2);
        r.setSilent(false);
        await until(() => (upDown(r, since).at(-1) === 'terminal-up' ? true : undefined), 'terminal-up');
        await r.traffic();
        expect(upDown(r, since)).toEqual(['terminal-down', 'terminal-up']);
      });
    } else {
      it('does not report a terminal down for silence (the family has no silence timeout)', async () => {
        const r = await startedRig();
        await r.traffic();
        const since = r.events.length;
        r.setSilent(true);
        await pause(2 * AFTER_STOP_MS);
        r.setSilent(false);
        expect(upDown(r, since)).toEqual([]);
        await r.traffic();
      });
    }

    it('emits no decision or credential twice across stop() and start()', async () => {
      const r = await startedRig();
      const before = await r.traffic();
      await r.driver.stop();
      const stoppedAt = r.events.length;
      await pause(AFTER_STOP_MS);
      expect(r.events.slice(stoppedAt)).toEqual([]);
      await r.driver.start();
      await eventAfter(r, stoppedAt, 'terminal-up');
      const after = await r.traffic();
      await pause(AFTER_STOP_MS);
      expect(after).not.toBe(before);
      expect(duplicates(r.delivered())).toEqual([]);
      expect(r.delivered()).toEqual(expect.arrayContaining([before, after]));
      expect(upDown(r, stoppedAt)).toEqual(['terminal-up']);
    });

    it(`handles a burst of ${BURST} requests without loss or duplicates (backpressure)`, async () => {
      const r = await startedRig();
      const keys = await Promise.all(Array.from({ length: BURST }, () => r.traffic()));
      await pause(AFTER_STOP_MS);
      expect(new Set(keys).size).toBe(BURST);
      for (const key of keys) expect(r.delivered().filter((k) => k === key)).toHaveLength(1);
    });
  });
}
