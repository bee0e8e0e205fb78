import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaceDriverRig } from '../sim-face-reader/driver-rig.ts';
import { type SimReader, startSimReader } from '../sim-face-reader/sim-reader.ts';
import { type ConformanceRig, runDriverConformance } from './conformance-suite.ts';

/**
 * The face-reader driver through the conformance suite, on the agent's real embedded broker with a
 * real mqtt.js reader (sim-face-reader). "The transport drops" is the reader's link going down without
 * DISCONNECT; "restored" is the reader logging in again to its persistent session.
 */
async function faceRig(firmware: boolean): Promise<ConformanceRig> {
  const rig = await startFaceDriverRig({
    decideAccess: () => ({ outcome: 'open' }),
    readers: 1,
    ...(firmware ? { firmwareHttp: {} } : {}),
  });
  const stateDir = firmware ? mkdtempSync(join(tmpdir(), 'conformance-face-fw-')) : undefined;
  const sim: SimReader = await startSimReader({
    ...rig.login(0),
    ...(stateDir ? { firmware: { stateDir, vendorKeys: [], model: 'SFR-200' } } : {}),
  });
  let person = 0;
  const delivered = () => rig.test.accessCalls.map((c) => c.recognition.eventId);
  return {
    driver: rig.driver,
    events: rig.test.events,
    transportOpens: rig.transportOpens,
    async traffic() {
      const command = await sim.recognize({ personId: `EMP-${++person}` });
      if (!command.eventId) throw new Error('a door command without its event id');
      return command.eventId;
    },
    delivered,
    async junk() {
      await sim.publishRaw('events', '{"v":1,"eventId":');
      await sim.publishRaw('events', Buffer.from([0xff, 0x00, 0x7b]));
      await sim.publishRaw('status', '[]');
    },
    setSilent() {
      // A reader nobody stands in front of publishes nothing: silence needs no switch.
    },
    async dropTransport() {
      await sim.dropConnection();
    },
    async restoreTransport() {
      await sim.reconnect();
    },
    async close() {
      await sim.close();
      await rig.close();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

runDriverConformance({
  family: 'face-reader (MQTT) on the embedded broker',
  silenceTimeoutMs: null,
  junkRaisesFrameError: true,
  setup: () => faceRig(false),
});

// The same driver with its firmware image server listening (start/stop idempotent, restarts, junk).
runDriverConformance({
  family: 'face-reader (MQTT) with its firmware image server',
  silenceTimeoutMs: null,
  junkRaisesFrameError: true,
  setup: () => faceRig(true),
});
