import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BankServer } from '@sceneway/cloud-sync/bank';
import { manualClock } from '@sceneway/core';
import type { BoxSecrets } from '@sceneway/gateway-agent';
import {
  type FullBoxConfig,
  hashPassword,
  parseBoxConfig,
  type RunningAgent,
  startAgent,
  verifyLedgerFile,
} from '@sceneway/gateway-agent';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigDocument, enrolBox, ensureDemoBoxKeys, startDemoBank } from '../demo-site/demo-parts.ts';
import { type SimReader, startSimReader } from '../sim-face-reader/sim-reader.ts';

/**
 * Campus gates end to end: the agent with the face-reader driver and the gates scenario, its embedded
 * aedes broker on an ephemeral port, sim-face-reader readers as real mqtt.js clients, the reference
 * bank taking the attendance records. The box clock is a manual clock (started at the real time, so
 * the bank accepts the box's signed requests); lockouts run out by moving it, never by sleeping.
 */
const READERS = [
  { id: 'main-in', zone: 'campus', direction: 'in' },
  { id: 'main-out', zone: 'campus', direction: 'out' },
  { id: 'lab-in', zone: 'lab', direction: 'in' },
  { id: 'lock-a', zone: 'hall', direction: 'in' },
  { id: 'lock-b', zone: 'hall', direction: 'out' },
  { id: 'kiosk-d', zone: 'lab', direction: 'in' },
] as const;
const password = (id: string) => `pw-${id}-correct-horse`;
const ISO_TODAY = ((new Date().getUTCDay() + 6) % 7) + 1; // close enough: the closed group is far from it
const NOT_TODAY_OR_TOMORROW = ((ISO_TODAY + 3) % 7) + 1;

const clock = manualClock(Date.now());
const lines: string[] = [];
let dataDir: string;
let bank: BankServer;
let secrets: BoxSecrets;
let config: FullBoxConfig;
let agent: RunningAgent | undefined;
const readers = new Map<string, SimReader>();

async function startBox(): Promise<void> {
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  agent = await startAgent({ config, secrets, logger, clock });
}

async function reader(id: string): Promise<SimReader> {
  const known = readers.get(id);
  if (known) return known;
  const { host, port } = agent!.broker.tcpAddress;
  const sim = await startSimReader({
    url: `mqtt://${host}:${port}`,
    readerId: id,
    username: id,
    password: password(id),
    now: clock.now,
  });
  readers.set(id, sim);
  return sim;
}

const attendance = () =>
  agent!.ledger.db
    .prepare<[], { terminal_id: string; payload: string; pii_digest: string | null }>(
      "SELECT terminal_id, payload, pii_digest FROM records WHERE kind = 'attendance' ORDER BY seq",
    )
    .all()
    .map(
      (r): Record<string, unknown> => ({
        reader: r.terminal_id,
        piiDigest: r.pii_digest,
        ...(JSON.parse(r.payload) as Record<string, unknown>),
      }),
    );

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sceneway-gates-e2e-'));
  const started = await startDemoBank(dataDir, 0);
  bank = started.bank;
  secrets = ensureDemoBoxKeys(dataDir);
  const doc = demoConfigDocument({
    dataDir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: bank.url,
    bankPrivateKeyHex: started.privateKeyHex,
    canteenLines: [],
    extraDrivers: [
      {
        driver: 'face-reader',
        config: {
          readers: READERS.map((r) => ({
            id: r.id,
            username: r.id,
            passwordHash: hashPassword(password(r.id)),
          })),
          commandTtlMs: 10_000,
        },
      },
    ],
  });
  config = parseBoxConfig({
    ...doc,
    bank: { ...(doc.bank as object), blacklistPollSeconds: 0 },
    scenarios: {
      gates: {
        zones: [{ id: 'campus' }, { id: 'lab' }, { id: 'hall', antiPassback: false }],
        readers: READERS.map((r) => ({ reader: r.id, zone: r.zone, direction: r.direction })),
        groups: [
          { id: 'staff', windows: [{ from: '00:00', to: '24:00' }] },
          { id: 'students', windows: [{ from: '00:00', to: '24:00' }], zones: ['campus'] },
          { id: 'closed', windows: [{ days: [NOT_TODAY_OR_TOMORROW], from: '00:00', to: '24:00' }] },
        ],
        persons: [
          { id: 'EMP-0001', group: 'staff' },
          { id: 'EMP-0002', group: 'staff' },
          { id: 'EMP-0003', group: 'staff' },
          { id: 'STU-0001', group: 'students' },
          { id: 'NIGHT-0001', group: 'closed' },
        ],
        lockout: { maxConsecutiveFailures: 5, periodMinutes: 1 },
      },
    },
  }).config;
  await enrolBox(bank, config, secrets, started.privateKeyHex);
  await startBox();
}, 120_000);

afterAll(async () => {
  for (const r of readers.values()) await r.close();
  await agent?.stop();
  await bank?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('campus gates over the real broker', () => {
  it('opens for an enrolled person in their window: one attendance record, person by keyed digest', async () => {
    const main = await reader('main-in');
    const snapshotDigest = 'ab'.repeat(32);
    const command = await main.recognize({ personId: 'EMP-0001', snapshotDigest });
    expect(command).toMatchObject({ action: 'open', outcome: 'done' });
    const records = attendance();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      reader: 'main-in',
      eventId: command.eventId,
      outcome: 'open',
      zone: 'campus',
    });
    expect(records[0]?.person).toMatch(/^[0-9a-f]{64}$/);
    expect(records[0]?.piiDigest).toMatch(/^[0-9a-f]{64}$/); // the snapshot digest, sealed
    const row = JSON.stringify(
      agent!.ledger.db.prepare("SELECT * FROM records WHERE kind = 'attendance'").all(),
    );
    expect(row).not.toContain('EMP-0001');
    expect(row).not.toContain(snapshotDigest);
    expect(agent!.alerts.list().map((a) => a.code)).not.toContain('GATES_HOLDER_KEY_MISSING');
  });

  it('denies passing back: in twice is refused until the person went out', async () => {
    const into = await reader('main-in');
    const out = await reader('main-out');
    expect(await into.recognize({ personId: 'EMP-0001' })).toMatchObject({
      action: 'deny',
      reason: 'PASSBACK',
    });
    expect(await out.recognize({ personId: 'EMP-0001' })).toMatchObject({ action: 'open' });
    expect(await out.recognize({ personId: 'EMP-0001' })).toMatchObject({
      action: 'deny',
      reason: 'PASSBACK',
    });
    expect(await into.recognize({ personId: 'EMP-0001' })).toMatchObject({ action: 'open' });
  });

  it('denies outside the group access window and outside its zones; an unknown person; a failed liveness', async () => {
    const main = await reader('main-in');
    const lab = await reader('lab-in');
    expect(await main.recognize({ personId: 'NIGHT-0001' })).toMatchObject({
      action: 'deny',
      reason: 'OUTSIDE_WINDOW',
    });
    expect(await lab.recognize({ personId: 'STU-0001' })).toMatchObject({
      action: 'deny',
      reason: 'ZONE_NOT_ALLOWED',
    });
    expect(await main.recognize({ personId: 'VISITOR-9' })).toMatchObject({
      action: 'deny',
      reason: 'UNKNOWN_PERSON',
    });
    expect(await main.recognize({ personId: 'STU-0001', liveness: 'fail' })).toMatchObject({
      action: 'deny',
      reason: 'LIVENESS_FAILED',
    });
    expect(await main.recognize({ personId: 'STU-0001' })).toMatchObject({ action: 'open' });
  });

  it('syncs the attendance records to the bank like sales: chained, exactly once', async () => {
    // A batch leaves when its oldest record is sync.maxAgeMs old by the box clock (2 s in the demo).
    clock.advance(2_500);
    await waitFor(() => agent!.ledger.stats().unsyncedCount === 0, 'the outbox to drain', 60_000);
    const stats = agent!.ledger.stats();
    expect(await bank.store.recordCount(config.box.id)).toBe(stats.headSeq);
    expect(await bank.store.getBox(config.box.id)).toMatchObject({
      headSeq: stats.headSeq,
      headHash: stats.headHash,
    });
  }, 90_000);

  it('locks a person out after the 5th consecutive failure (004 §5.3.2 b) 6)) and releases them after the period', async () => {
    const a = await reader('lock-a');
    const b = await reader('lock-b');
    const main = await reader('main-in');
    await (await reader('main-out')).recognize({ personId: 'EMP-0003' }); // EMP-0003 is outside campus
    // Five low-score matches of the same person on two readers: neither reader reaches five itself.
    for (let i = 0; i < 5; i++) {
      const on = i % 2 === 0 ? a : b;
      expect(await on.recognize({ personId: 'EMP-0003', score: 0.42 })).toMatchObject({
        reason: 'NOT_RECOGNIZED',
      });
    }
    expect(await main.recognize({ personId: 'EMP-0003' })).toMatchObject({
      action: 'deny',
      reason: 'LOCKED_OUT',
    });
    // The readers themselves are not locked: another person passes.
    expect(await a.recognize({ personId: 'EMP-0002' })).toMatchObject({ action: 'open' });
    clock.advance(59_000);
    expect(await main.recognize({ personId: 'EMP-0003' })).toMatchObject({ reason: 'LOCKED_OUT' });
    clock.advance(2_000);
    expect(await main.recognize({ personId: 'EMP-0003' })).toMatchObject({ action: 'open' });
  });

  it('four failures do not lock, and a success ends the run', async () => {
    const a = await reader('lock-a');
    for (let i = 0; i < 4; i++) await a.recognize({ personId: 'EMP-0002', score: 0.3 });
    expect(await a.recognize({ personId: 'EMP-0002' })).toMatchObject({ action: 'open' });
    for (let i = 0; i < 4; i++) await a.recognize({ personId: 'EMP-0002', score: 0.3 });
    expect(await a.recognize({ personId: 'EMP-0002' })).toMatchObject({ action: 'open' });
  });

  it('locks a reader after 5 consecutive failures of any face there (the device dimension)', async () => {
    const kiosk = await reader('kiosk-d');
    for (let i = 0; i < 5; i++) {
      expect(await kiosk.recognize({ personId: null })).toMatchObject({ reason: 'NOT_RECOGNIZED' });
    }
    expect(await kiosk.recognize({ personId: 'EMP-0002' })).toMatchObject({ reason: 'LOCKED_OUT' });
    expect(await (await reader('lab-in')).recognize({ personId: 'EMP-0001' })).toMatchObject({
      action: 'open',
    });
    clock.advance(61_000);
    expect(await kiosk.recognize({ personId: 'EMP-0002' })).toMatchObject({ action: 'open' });
  });

  it('replays events buffered offline after a reconnect, deduplicated by event id: no double record', async () => {
    const out = await reader('main-out');
    await out.dropConnection();
    await waitFor(() => agent!.status().terminals.some((t) => t.id === 'main-out' && !t.up), 'main-out down');
    out.faults.duplicate = true; // and every replayed event arrives twice
    const answers = [out.recognize({ personId: 'EMP-0001' }), out.recognize({ personId: 'EMP-0003' })];
    expect(out.buffered).toBe(2);
    const before = attendance().length;
    await out.reconnect();
    expect(out.sessionPresent).toBe(true);
    const commands = await Promise.all(answers);
    expect(commands.map((c) => c.action)).toEqual(['open', 'open']);
    const ids = commands.map((c) => c.eventId);
    const copies = (id: string | undefined) => out.commands.filter((c) => c.eventId === id);
    await waitFor(() => ids.every((id) => copies(id).length === 2), 'both copies answered');
    out.faults.duplicate = false;
    // Each copy was answered the same way, and each event is one record.
    for (const id of ids) {
      expect(copies(id).map((c) => c.action)).toEqual(['open', 'open']);
      expect(attendance().filter((r) => r.eventId === id)).toHaveLength(1);
    }
    expect(attendance().length).toBe(before + 2);
  });

  it('answers a replay after an agent restart from the ledger, without a second record', async () => {
    const out = await reader('main-out');
    const first = await out.recognize({ personId: 'EMP-0002' });
    expect(first.action).toBe('open');
    const replay = out.eventOf({ personId: 'EMP-0002', eventId: first.eventId as string });
    for (const r of readers.values()) await r.close();
    readers.clear();
    await agent!.stop();
    await startBox();
    const again = await reader('main-out');
    const before = attendance().length;
    const answer = await again.recognize({ personId: replay.personId, eventId: replay.eventId });
    // Out of campus a second time would be PASSBACK: the first decision is what the reader gets again.
    expect(answer).toMatchObject({ action: 'open', eventId: first.eventId });
    expect(attendance().length).toBe(before);
    expect(verifyLedgerFile(config.ledger.path).ok).toBe(true);
  }, 60_000);

  it('refuses a reader with wrong credentials, and survives malformed JSON from a logged-in one', async () => {
    const { host, port } = agent!.broker.tcpAddress;
    await expect(
      startSimReader({
        url: `mqtt://${host}:${port}`,
        readerId: 'lab-in',
        username: 'lab-in',
        password: password('lab-in'),
        faults: { wrongPassword: true },
      }),
    ).rejects.toThrow(/Bad username or password|Not authorized/i);
    const main = await reader('main-in');
    await main.publishRaw('events', '{"v":1,"personId":"EMP-0001",');
    await waitFor(() => lines.some((l) => l.includes('"code":"FACE_JSON"')), 'the frame error in the log');
    expect(main.connected).toBe(true);
    expect(await main.recognize({ personId: 'EMP-0002' })).toMatchObject({ action: 'open' });
  });

  it('never logs a person id or a snapshot digest', () => {
    const all = lines.join('\n');
    for (const secret of ['EMP-000', 'STU-0001', 'NIGHT-0001', 'VISITOR-9', 'ab'.repeat(32)]) {
      expect(all).not.toContain(secret);
    }
  });
});
