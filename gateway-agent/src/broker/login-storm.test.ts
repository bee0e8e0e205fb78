import { afterEach, describe, expect, it } from 'vitest';
import {
  connectClient,
  connectPacket,
  loginAs,
  READER_1,
  rawLogin,
  startTestBroker,
  waitFor,
} from './broker-test-support.ts';
import type { LockoutScope, TerminalBroker } from './terminal-broker.ts';

/**
 * Issue #11: a flood of bad MQTT logins froze every till for minutes, because each CONNECT queued a
 * scrypt on libuv's pool. Now checks run on a bounded worker, waiting logins are bounded, failures back
 * off per address and per username, and a box without MQTT terminals never runs scrypt at all.
 * The attackers use other loopback addresses (127.0.0.2…) than the real terminal (127.0.0.1).
 */
let broker: TerminalBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

const CONNACK_SERVER_UNAVAILABLE = 3;
const CONNACK_BAD_LOGIN = 4;
const CONNACK_NOT_AUTHORIZED = 5;

describe('a bad-login storm', () => {
  it('never runs more than one check at once, bounds the queue, locks the attackers out and lets the real terminal in', async () => {
    const lockouts: LockoutScope[] = [];
    const started = await startTestBroker({
      // The clock stands still, so no lockout runs out while the test looks at it.
      login: {
        maxChecksInFlight: 1,
        maxChecksQueued: 8,
        throttle: { now: () => 1_000_000 },
        // The stranger budget has a test of its own below; here the queue bound is what is watched.
        strangerChecks: { perSecond: 1000, burst: 1000 },
      },
      newAddressConnectsPerSecond: 10_000,
      onLockout: (scope) => lockouts.push(scope),
    });
    broker = started.broker;
    const { port } = broker.tcpAddress;
    // The real terminal has logged in from its address before (its lockout-free path).
    (await connectClient(started.url, loginAs(READER_1))).end(true);

    // 200 CONNECTs at once from 20 addresses: half guess reader-1's password, half invent usernames.
    const attempts = Array.from({ length: 200 }, (_, i) => {
      const packet = connectPacket({
        clientId: `attacker-${i}`,
        username: i % 2 === 0 ? READER_1.username : `nobody-${i}`,
        password: `guess-${i}`,
      });
      return rawLogin(port, packet, `127.0.0.${2 + (i % 20)}`);
    });
    const codes = await Promise.all(attempts);

    const defence = broker.loginDefence();
    expect(defence.peakInFlight).toBe(1);
    expect(defence.peakQueued).toBeLessThanOrEqual(8);
    // Every attempt got an answer and none got in; those beyond the queue were told "try later".
    expect(codes.every((c) => c === CONNACK_BAD_LOGIN || c === CONNACK_SERVER_UNAVAILABLE)).toBe(true);
    expect(defence.refusedBusy).toBeGreaterThan(0);
    expect(defence.started).toBeLessThan(200);

    await waitFor(() => broker!.loginDefence().inFlight === 0, 'the storm checks to finish');

    // One address guessing on: three failures are free, the fourth attempt is refused before scrypt.
    const lone = (n: number) =>
      rawLogin(
        port,
        connectPacket({ clientId: `l-${n}`, username: `lone-${n}`, password: 'x' }),
        '127.0.0.99',
      );
    for (const n of [1, 2, 3]) expect(await lone(n)).toBe(CONNACK_BAD_LOGIN);
    const checksSoFar = broker.loginDefence().started;
    expect(await lone(4)).toBe(CONNACK_SERVER_UNAVAILABLE);
    expect(broker.loginDefence().started).toBe(checksSoFar);

    // reader-1's username failed many times in the storm: fresh addresses naming it are refused unchecked.
    const wave = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        rawLogin(
          port,
          connectPacket({ clientId: `w-${i}`, username: READER_1.username, password: 'x' }),
          `127.0.1.${2 + i}`,
        ),
      ),
    );
    expect(wave.every((c) => c === CONNACK_SERVER_UNAVAILABLE)).toBe(true);
    expect(broker.loginDefence().started).toBe(checksSoFar);
    expect(broker.loginDefence().lockedOut.address).toBeGreaterThan(0);
    expect(broker.loginDefence().lockedOut.username).toBeGreaterThan(0);
    expect(lockouts).toContain('address');
    expect(lockouts).toContain('username');

    // reader-1's username is locked out for strangers, not for reader-1 at its own address.
    const real = await connectClient(started.url, loginAs(READER_1));
    expect(real.connected).toBe(true);
    real.end(true);
  });

  it('spends at most the stranger budget on never-seen paths; the known terminal is not charged', async () => {
    const started = await startTestBroker({
      login: { throttle: { now: () => 1_000_000 }, strangerChecks: { perSecond: 2, burst: 4 } },
      newAddressConnectsPerSecond: 10_000,
    });
    broker = started.broker;
    const { port } = broker.tcpAddress;
    (await connectClient(started.url, loginAs(READER_1))).end(true); // 1 check, on the budget
    // 60 strangers, each from its own address with its own username: no backoff can catch them.
    const codes = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        rawLogin(
          port,
          connectPacket({ clientId: `s-${i}`, username: `s-${i}`, password: 'x' }),
          `127.0.2.${2 + i}`,
        ),
      ),
    );
    expect(broker.loginDefence().started).toBe(4);
    expect(codes.filter((c) => c === CONNACK_SERVER_UNAVAILABLE)).toHaveLength(57);
    // The clock stands still, so the budget is empty: the known terminal still logs in.
    const real = await connectClient(started.url, loginAs(READER_1));
    expect(real.connected).toBe(true);
    real.end(true);
  });

  it('drops sockets from new addresses beyond their rate at accept; known addresses are not counted', async () => {
    const drops: string[] = [];
    const started = await startTestBroker({
      login: { throttle: { now: () => 1_000_000 } },
      newAddressConnectsPerSecond: 5, // burst 10, and the clock stands still
      onConnectionDropped: (reason) => drops.push(reason),
    });
    broker = started.broker;
    const { port } = broker.tcpAddress;
    (await connectClient(started.url, loginAs(READER_1))).end(true); // 127.0.0.1 is now known
    const codes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        rawLogin(
          port,
          connectPacket({ clientId: `n-${i}`, username: `n-${i}`, password: 'x' }),
          `127.0.3.${2 + i}`,
        ),
      ),
    );
    expect(codes.filter((c) => c === null)).toHaveLength(21);
    expect(drops.filter((d) => d === 'too_many_new_addresses')).toHaveLength(21);
    expect(broker.loginDefence().started).toBeLessThanOrEqual(5);
    const real = await connectClient(started.url, loginAs(READER_1));
    expect(real.connected).toBe(true);
    real.end(true);
  });

  it('with no MQTT terminal configured, refuses every login with CONNACK 5 and never runs scrypt', async () => {
    const started = await startTestBroker({ terminals: [], newAddressConnectsPerSecond: 10_000 });
    broker = started.broker;
    const { port } = broker.tcpAddress;
    const codes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        rawLogin(
          port,
          connectPacket({ clientId: `c-${i}`, username: `u-${i}`, password: 'p' }),
          `127.0.0.${2 + (i % 5)}`,
        ),
      ),
    );
    expect(codes.every((c) => c === CONNACK_NOT_AUTHORIZED)).toBe(true);
    expect(broker.loginDefence().started).toBe(0);
    expect(
      started.log
        .records()
        .some((r) => r.reason === 'terminal refused: no MQTT terminal is configured on this box'),
    ).toBe(true);
  });
});
