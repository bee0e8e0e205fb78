import { startOnvifDriverRig } from '../sim-onvif-camera/driver-rig.ts';
import { type ConformanceRig, runDriverConformance } from './conformance-suite.ts';

/**
 * The onvif-camera driver through the conformance suite, against the simulated camera over real HTTP
 * on loopback. Traffic is a plate event with a fresh ObjectId; junk is an answer to PullMessages that
 * is no SOAP envelope; silence is a camera that reads requests and never answers; a dropped transport
 * is the camera's network going away (no listener, connections cut) and coming back on the same port.
 */
const SILENCE_MS = 1000;

async function onvifRig(): Promise<ConformanceRig> {
  const rig = await startOnvifDriverRig({
    config: { silenceTimeoutMs: SILENCE_MS, requestTimeoutMs: SILENCE_MS, snapshot: false },
  });
  let n = 0;
  const delivered = () => rig.sightings.map((s) => s.eventId);
  return {
    driver: rig.driver,
    events: rig.test.events,
    transportOpens: rig.test.transportOpens,
    async traffic() {
      const objectId = `plate-${++n}-${process.hrtime.bigint()}`;
      const key = `lot-a-entry-cam:${objectId}`;
      rig.camera.emitPlate({ plate: `京A${String(n).padStart(5, '0')}`, likelihood: 0.9, objectId });
      await rig.nextSighting((s) => s.eventId === key, 0);
      return key;
    },
    delivered,
    async junk() {
      rig.camera.junkNext();
    },
    setSilent: (silent) => rig.camera.setSilent(silent),
    dropTransport: () => rig.camera.disconnect(),
    restoreTransport: () => rig.camera.reconnect(),
    close: () => rig.close(),
  };
}

runDriverConformance({
  family: 'onvif-camera over HTTP SOAP against the simulated camera',
  silenceTimeoutMs: SILENCE_MS,
  junkRaisesFrameError: true,
  setup: onvifRig,
});
