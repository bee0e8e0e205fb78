import { manualClock } from '@sceneway/core';
import type { AccessDecision } from '@sceneway/device-drivers';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaceDriverRig, startFaceDriverRig } from './driver-rig.ts';
import { type SimReader, startSimReader } from './sim-reader.ts';

/**
 * The face-reader driver against the agent's real broker and a real mqtt.js reader: door commands to a
 * reader that went offline, bad input, logins. The scenario's answer is held by the test where the
 * order of events matters, so nothing depends on who was quicker.
 */
let rig: FaceDriverRig | undefined;
const readers: SimReader[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) await r.close();
  await rig?.close();
  rig = undefined;
});

function held() {
  const answers: Array<(d: AccessDecision) => void> = [];
  return {
    decideAccess: () => new Promise<AccessDecision>((resolve) => answers.push(resolve)),
    asked: () => answers.length,
    answer: (d: AccessDecision) => answers.shift()?.(d),
  };
}

/** The driver publishes its command in the microtasks after the answer; no I/O lies in between. */
const afterMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The reader's link goes down, and the box has seen it go (its session is then offline at the broker). */
async function dropped(r: FaceDriverRig, sim: SimReader): Promise<void> {
  const since = r.test.events.length;
  await sim.dropConnection();
  await r.test.waitForEvent((e) => e.type === 'terminal-down', 10_000, since);
}

async function reader(r: FaceDriverRig, now: () => number, i = 0) {
  const sim = await startSimReader({ ...r.login(i), now });
  readers.push(sim);
  return sim;
}

describe('door commands to a reader that went offline', () => {
  it('reaches the reader through its persistent session when it is back within the expiry', async () => {
    const clock = manualClock(Date.UTC(2026, 2, 2, 1, 0, 0));
    const scenario = held();
    rig = await startFaceDriverRig({ decideAccess: scenario.decideAccess, now: clock.now });
    await rig.driver.start();
    const sim = await reader(rig, clock.now);
    const answer = sim.recognize({ personId: 'EMP-0001' });
    await waitFor(() => scenario.asked() === 1, 'the event at the scenario');
    await dropped(rig, sim);
    scenario.answer({ outcome: 'open' }); // decided while the reader is away: queued by the broker
    clock.advance(3_000);
    await sim.reconnect();
    expect(sim.sessionPresent).toBe(true); // subscriptions came back with the session, not a resubscribe
    expect(await answer).toMatchObject({ action: 'open', outcome: 'done' });
    expect(rig.test.alerts).toEqual([]);
  });

  it('expires with a clear status when the reader comes back too late: not carried out, reported', async () => {
    const clock = manualClock(Date.UTC(2026, 2, 2, 1, 0, 0));
    const scenario = held();
    rig = await startFaceDriverRig({
      decideAccess: scenario.decideAccess,
      now: clock.now,
      commandTtlMs: 5_000,
    });
    await rig.driver.start();
    const sim = await reader(rig, clock.now);
    const answer = sim.recognize({ personId: 'EMP-0001' });
    await waitFor(() => scenario.asked() === 1, 'the event at the scenario');
    await dropped(rig, sim);
    scenario.answer({ outcome: 'open' });
    await afterMicrotasks(); // issued at the old time
    clock.advance(60_000);
    await sim.reconnect();
    expect(await answer).toMatchObject({ action: 'open', outcome: 'expired' });
    await waitFor(() => rig?.test.alerts.length === 1, 'the expiry alert');
    expect(rig.test.alerts[0]).toMatchObject({ terminalId: 'gate-1', code: 'FACE_COMMAND_EXPIRED' });
    expect(rig.test.alerts[0]?.detail).toMatch(
      /expired before the reader carried it out \(seen by the (reader|box)\)/,
    );
  });

  it('is reported expired by the box when the reader never comes back', async () => {
    const clock = manualClock(Date.UTC(2026, 2, 2, 1, 0, 0));
    const scenario = held();
    rig = await startFaceDriverRig({
      decideAccess: scenario.decideAccess,
      now: clock.now,
      commandTtlMs: 5_000,
    });
    await rig.driver.start();
    const sim = await reader(rig, clock.now);
    void sim.recognize({ personId: 'EMP-0001' });
    await waitFor(() => scenario.asked() === 1, 'the event at the scenario');
    await dropped(rig, sim);
    scenario.answer({ outcome: 'deny', reason: 'PASSBACK' });
    await afterMicrotasks();
    clock.advance(60_000);
    await waitFor(() => rig?.test.alerts.length === 1, 'the expiry alert');
    expect(rig.test.alerts[0]?.detail).toMatch(/seen by the box/);
  });
});

describe('bad input from a reader', () => {
  it('rejects malformed JSON as a frame error, answers a schema-invalid event it can name, and goes on', async () => {
    rig = await startFaceDriverRig({ decideAccess: () => ({ outcome: 'open' }) });
    await rig.driver.start();
    const sim = await reader(rig, Date.now);
    const since = rig.test.events.length;
    await sim.publishRaw('events', '{"v":1,"eventId":"e-1",');
    await rig.test.waitForEvent((e) => e.type === 'frame-error' && e.code === 'FACE_JSON', 5000, since);
    await sim.publishRaw(
      'events',
      JSON.stringify({ ...sim.eventOf({ personId: 'EMP-1', eventId: 'e-2' }), score: 7 }),
    );
    await rig.test.waitForEvent((e) => e.type === 'frame-error' && e.code === 'FACE_SCHEMA', 5000, since);
    await waitFor(() => sim.commands.some((c) => c.eventId === 'e-2'), 'the answer to e-2');
    expect(sim.commands.find((c) => c.eventId === 'e-2')).toMatchObject({
      action: 'deny',
      reason: 'BAD_EVENT',
    });
    const frameError = rig.test.events.find((e) => e.type === 'frame-error' && e.code === 'FACE_SCHEMA');
    expect(frameError).toMatchObject({ detail: expect.stringMatching(/^events: score: /) });
    expect(JSON.stringify(rig.test.events)).not.toContain('EMP-1'); // a field path, never its value
    // Neither cost the reader its connection, and the next good event is decided.
    expect(sim.connected).toBe(true);
    expect(await sim.recognize({ personId: 'EMP-1' })).toMatchObject({ action: 'open' });
    expect(rig.test.accessCalls).toHaveLength(1);
  });

  it('refuses a reader with the wrong password, and one that logs in as another reader', async () => {
    rig = await startFaceDriverRig({ decideAccess: () => ({ outcome: 'open' }) });
    await expect(startSimReader({ ...rig.login(0), faults: { wrongPassword: true } })).rejects.toThrow(
      /Bad username or password|Not authorized/i,
    );
    await expect(startSimReader({ ...rig.login(1), readerId: 'gate-1' })).rejects.toThrow(
      /Identifier rejected|client/i,
    );
  });

  it('disconnects a reader that forges its own door command', async () => {
    rig = await startFaceDriverRig({ decideAccess: () => ({ outcome: 'open' }) });
    await rig.driver.start();
    const sim = await reader(rig, Date.now);
    expect(sim.connected).toBe(true);
    // No PUBACK comes for a refused publish (MQTT 3.1.1 has no NACK): the answer is the disconnect.
    void sim.publishRaw('cmd', '{"v":1,"action":"open"}').catch(() => undefined);
    await waitFor(() => !sim.connected, 'the forger disconnected');
    expect(rig.test.accessCalls).toEqual([]);
  });
});
