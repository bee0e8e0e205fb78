import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  type RelayCommand,
  type SimOnvifCamera,
  startSimOnvifCamera,
} from '../../test-rigs/src/sim-onvif-camera/sim-camera.ts';

/**
 * Child process of the parking bench: the simulated cameras run here, apart from the agent, so the
 * agent's event loop is not shared with the cameras it is measured by. Both ends of the measure are on
 * this process's clock: performance.now() when the camera queues a plate event, and when its
 * SetRelayOutputState arrives. Cameras come in pairs (entry, exit): the exit of a pair sees the plate
 * its entry saw half a pace earlier, so every exit is a paid stay on the ledger's money path.
 */
type Msg =
  | { cmd: 'start'; pairs: number; password: string }
  | { cmd: 'go'; seconds: number; paceMs: number }
  | { cmd: 'stop' };

const cameras: SimOnvifCamera[] = [];
const pending = new Map<SimOnvifCamera, number[]>();
let latencies: number[] = [];
let emitted = 0;
let unmatched = 0;

const send = (m: unknown) => process.send?.(m);

process.on('message', async (m: Msg) => {
  if (m.cmd === 'start') {
    for (let i = 0; i < m.pairs * 2; i++) {
      const cam = await startSimOnvifCamera({ password: m.password });
      pending.set(cam, []);
      cam.on('relay', (c: RelayCommand) => {
        if (c.state !== 'active') return;
        const t0 = pending.get(cam)?.shift();
        if (t0 === undefined) unmatched++;
        else latencies.push(c.receivedAt - t0);
      });
      cameras.push(cam);
    }
    send({ urls: cameras.map((c) => c.deviceUrl) });
  } else if (m.cmd === 'go') {
    latencies = [];
    emitted = 0;
    unmatched = 0;
    for (const q of pending.values()) q.length = 0;
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const deadline = performance.now() + m.seconds * 1000;
    let car = 0;
    const timers: NodeJS.Timeout[] = [];
    const emit = (cam: SimOnvifCamera, plate: string) => {
      pending.get(cam)?.push(performance.now());
      cam.emitPlate({ plate, likelihood: 0.95 });
      emitted++;
    };
    for (let p = 0; p < cameras.length / 2; p++) {
      const entry = cameras[2 * p] as SimOnvifCamera;
      const exit = cameras[2 * p + 1] as SimOnvifCamera;
      let inside: string | null = null;
      // Spread the pairs over the pace so their events do not all start on the same tick.
      const tick = () => {
        if (performance.now() > deadline) return;
        const plate = `京B${p.toString().padStart(2, '0')}${(car++ % 1000).toString().padStart(3, '0')}`;
        emit(entry, plate);
        const leaving = inside;
        inside = plate;
        if (leaving) timers.push(setTimeout(() => emit(exit, leaving), m.paceMs / 2));
        timers.push(setTimeout(tick, m.paceMs));
      };
      timers.push(setTimeout(tick, (p * m.paceMs) / (cameras.length / 2)));
    }
    await new Promise((r) => setTimeout(r, m.seconds * 1000 + 2000));
    for (const t of timers) clearTimeout(t);
    loop.disable();
    send({
      latencies,
      emitted,
      unmatched,
      stillWaiting: [...pending.values()].reduce((n, q) => n + q.length, 0),
      simLoopDelayMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    });
  } else if (m.cmd === 'stop') {
    await Promise.all(cameras.map((c) => c.close()));
    process.exit(0);
  }
});
