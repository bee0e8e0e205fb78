import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyedHolderDigests, legacyHolderDigests } from '@sceneway/cloud-sync';
import type { BankServer } from '@sceneway/cloud-sync/bank';
import type { BoxSecrets } from '@sceneway/gateway-agent';
import {
  enrolPerson,
  type FullBoxConfig,
  faceDataKey,
  hashPassword,
  loadHolderKey,
  parseBoxConfig,
  provisionTerminalKey,
  type RunningAgent,
  removePerson,
  startAgent,
} from '@sceneway/gateway-agent';
import { waitFor } from '@sceneway/gateway-agent/testing';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigDocument, enrolBox, ensureDemoBoxKeys, startDemoBank } from '../demo-site/demo-parts.ts';
import { type SimReader, startSimReader } from '../sim-face-reader/sim-reader.ts';

/**
 * Person list sync end to end: `gates person add|remove` (the functions the CLI runs) on the box's
 * ledger file while the agent is stopped, then the agent with its embedded broker sends each reader of
 * the person's zone a `persons` message sealed under that reader's provisioned key; sim-face-reader
 * readers (real mqtt.js, persistent sessions) open it, apply it and ack `persons/ack`.
 */
const READERS = [
  { id: 'front-in', zone: 'campus', direction: 'in' },
  { id: 'back-in', zone: 'campus', direction: 'in' },
  { id: 'lab-door', zone: 'lab', direction: 'in' },
] as const;
const password = (id: string) => `pw-${id}-correct-horse`;
const TEMPLATE = Buffer.from('FACE-TEMPLATE-OF-EMP-0001|'.repeat(8));
const ID_NUMBER = '11010119900307451X';

const lines: string[] = [];
let dataDir: string;
let bank: BankServer;
let secrets: BoxSecrets;
let config: FullBoxConfig;
let agent: RunningAgent | undefined;
const keys = new Map<string, Buffer>();
const readers = new Map<string, SimReader>();

async function startBox(): Promise<void> {
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  agent = await startAgent({ config, secrets, logger });
  // The readers come back to the same address after a restart, as on a site.
  const port = agent.broker.tcpAddress.port;
  config = { ...config, broker: { ...config.broker, tcp: { ...config.broker.tcp, port } } } as FullBoxConfig;
}

/** The operator's CLI work, with the agent stopped (gates person add|remove). */
function onLedgerFile<T>(run: (db: Database.Database, digests: typeof legacyHolderDigests) => T): T {
  const holderKey = loadHolderKey({
    dir: config.keys.dir,
    boxId: config.box.id,
    privateKeyHex: secrets.privateKeyHex,
    bankPublicKeyHex: config.bank.publicKeyHex,
    bankUserId: config.bank.userId,
  });
  const db = new Database(config.ledger.path);
  try {
    return run(db, holderKey ? keyedHolderDigests(holderKey) : legacyHolderDigests);
  } finally {
    db.close();
  }
}
const gates = () => (config.scenarios as { gates: Parameters<typeof enrolPerson>[3] }).gates;

async function reader(id: string): Promise<SimReader> {
  const { host, port } = agent!.broker.tcpAddress;
  const sim = await startSimReader({
    url: `mqtt://${host}:${port}`,
    readerId: id,
    username: id,
    password: password(id),
    terminalKey: keys.get(id),
  });
  readers.set(id, sim);
  return sim;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sceneway-persons-e2e-'));
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
        },
      },
    ],
  });
  config = parseBoxConfig({
    ...doc,
    bank: { ...(doc.bank as object), blacklistPollSeconds: 0 },
    scenarios: {
      gates: {
        zones: [{ id: 'campus' }, { id: 'lab' }],
        readers: READERS.map((r) => ({ reader: r.id, zone: r.zone, direction: r.direction })),
        groups: [
          { id: 'staff', windows: [{ from: '00:00', to: '24:00' }], zones: ['campus'] },
          { id: 'lab-staff', windows: [{ from: '00:00', to: '24:00' }] },
        ],
        persons: [
          { id: 'EMP-0001', group: 'staff' },
          { id: 'LAB-0001', group: 'lab-staff' },
        ],
      },
    },
  }).config;
  await enrolBox(bank, config, secrets, started.privateKeyHex);
  for (const r of READERS) {
    const made = provisionTerminalKey({
      dir: config.keys.dir,
      boxPrivateKeyHex: secrets.privateKeyHex,
      terminalId: r.id,
    });
    keys.set(r.id, made.key);
  }
  await startBox(); // creates the ledger file; the readers open their persistent sessions
  await reader('front-in');
  await reader('back-in');
  await reader('lab-door');
  await waitFor(() => readers.get('lab-door')?.personListVersion === 1, 'the first (empty) list acked');
}, 120_000);

afterAll(async () => {
  for (const r of readers.values()) await r.close();
  await agent?.stop();
  await bank?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('person list sync over the real broker', () => {
  it('an enrolment reaches every reader of the zone, sealed, opened by the reader to what was enrolled; an offline reader gets it on return', async () => {
    const front = readers.get('front-in')!;
    const back = readers.get('back-in')!;
    const lab = readers.get('lab-door')!;
    await waitFor(() => front.personListVersion === 1 && back.personListVersion === 1, 'empty lists acked');
    expect(front.persons.size).toBe(0);
    await back.dropConnection(); // back-in is offline through the enrolment and the restart
    await agent!.stop();
    agent = undefined;
    onLedgerFile((db, digests) => {
      enrolPerson(
        db,
        faceDataKey(secrets.privateKeyHex),
        digests,
        gates(),
        { personId: 'EMP-0001', faceTemplate: TEMPLATE, idNumber: ID_NUMBER },
        Date.now(),
      );
      enrolPerson(
        db,
        faceDataKey(secrets.privateKeyHex),
        digests,
        gates(),
        { personId: 'LAB-0001', faceTemplate: TEMPLATE },
        Date.now(),
      );
    });
    await startBox();
    await front.reconnect();
    await lab.reconnect();
    await waitFor(() => front.personListVersion === 3, 'front-in holds the new list');
    expect([...front.persons]).toEqual([
      ['EMP-0001', { group: 'staff', faceTemplate: TEMPLATE, idNumber: ID_NUMBER }],
      ['LAB-0001', { group: 'lab-staff', faceTemplate: TEMPLATE }],
    ]);
    // The lab reader's zone is not staff's: it holds the lab person only.
    await waitFor(() => lab.personListVersion === 3, 'lab-door holds the new list');
    expect([...lab.persons.keys()]).toEqual(['LAB-0001']);
    expect(back.personListVersion).toBe(1);
    await back.reconnect();
    await waitFor(() => back.personListVersion === 3, 'back-in, back, holds the new list');
    expect(back.persons.get('EMP-0001')).toEqual({
      group: 'staff',
      faceTemplate: TEMPLATE,
      idNumber: ID_NUMBER,
    });
    // What crossed the broker was sealed: neither the template nor the ID number is in any log line.
    const all = lines.join('\n');
    expect(all).not.toContain('FACE-TEMPLATE-OF');
    expect(all).not.toContain(ID_NUMBER);
    expect(all).not.toContain('EMP-0001');
  });

  it('a removal deletes the sealed row and every reader drops the person', async () => {
    const front = readers.get('front-in')!;
    await agent!.stop();
    agent = undefined;
    const removed = onLedgerFile((db, digests) => {
      const result = removePerson(db, faceDataKey(secrets.privateKeyHex), digests, 'EMP-0001');
      return { ...result, rows: db.prepare('SELECT count(*) FROM gate_face_data').pluck().get() };
    });
    expect(removed).toEqual({ faceData: true, rows: 1 }); // LAB-0001's row stays
    await startBox();
    for (const r of readers.values()) await r.reconnect();
    await waitFor(() => front.personListVersion === 4, 'front-in holds the list after the removal');
    expect([...front.persons.keys()]).toEqual(['LAB-0001']);
    await waitFor(() => readers.get('back-in')?.personListVersion === 4, 'back-in too');
    expect(readers.get('back-in')?.persons.has('EMP-0001')).toBe(false);
  });
});
