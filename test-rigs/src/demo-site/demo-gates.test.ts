import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BankServer } from '@sceneway/cloud-sync/bank';
import { type RunningAgent, startAgent } from '@sceneway/gateway-agent';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoGates, demoGates } from './demo-gates.ts';
import { demoBoxConfig, enrolBox, ensureDemoBoxKeys, startDemoBank } from './demo-parts.ts';

/**
 * The demo's campus gate as `npm start` wires it: the demo config with its face-reader entry and
 * `scenarios.gates`, the agent and its embedded broker, the demo's readers playing their round. What
 * the demo prints must be what the ledger holds: one line per passage, each one attendance record.
 */
const lines: string[] = [];
const abort = new AbortController();
let dataDir: string;
let bank: BankServer;
let agent: RunningAgent;
let gates: DemoGates;
let played: Promise<void>;

const attendance = () =>
  agent.ledger.db
    .prepare<[], { terminal_id: string; payload: string }>(
      "SELECT terminal_id, payload FROM records WHERE kind = 'attendance' ORDER BY seq",
    )
    .all()
    .map((r) => ({
      reader: r.terminal_id,
      ...(JSON.parse(r.payload) as { outcome: string; reason?: string }),
    }));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sceneway-demo-gates-'));
  const started = await startDemoBank(dataDir, 0);
  bank = started.bank;
  const secrets = ensureDemoBoxKeys(dataDir);
  gates = demoGates();
  const config = demoBoxConfig({
    dataDir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: bank.url,
    bankPrivateKeyHex: started.privateKeyHex,
    canteenLines: [],
    extraDrivers: gates.drivers,
    gates: gates.scenario,
  });
  await enrolBox(bank, config, secrets, started.privateKeyHex);
  agent = await startAgent({ config, secrets, logger: pino({ level: 'silent' }) });
  const { host, port } = agent.broker.tcpAddress;
  played = gates.play({
    url: `mqtt://${host}:${port}`,
    log: (l) => void lines.push(l),
    signal: abort.signal,
  });
}, 120_000);

afterAll(async () => {
  abort.abort();
  await played;
  await gates?.stop();
  await agent?.stop();
  await bank?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the demo site campus gate', () => {
  it('plays open, passback, outside window and an unknown face, each one recorded as the demo prints it', async () => {
    await waitFor(() => lines.length >= 5, 'a full round of the demo gate', 60_000);
    expect(lines.slice(0, 5)).toEqual([
      'gates: a staff member at campus-gate-in: gate opened',
      'gates: the same staff member again (no exit between) at campus-gate-in: denied PASSBACK',
      'gates: a contractor (window is another weekday) at campus-gate-in: denied OUTSIDE_WINDOW',
      'gates: a face that matches no one at campus-gate-in: denied NOT_RECOGNIZED',
      'gates: the staff member at campus-gate-out: gate opened',
    ]);
    await waitFor(() => attendance().length >= 5, 'five attendance records');
    expect(
      attendance()
        .slice(0, 5)
        .map((r) => [r.reader, r.outcome, r.reason]),
    ).toEqual([
      ['campus-gate-in', 'open', undefined],
      ['campus-gate-in', 'deny', 'PASSBACK'],
      ['campus-gate-in', 'deny', 'OUTSIDE_WINDOW'],
      ['campus-gate-in', 'deny', 'NOT_RECOGNIZED'],
      ['campus-gate-out', 'open', undefined],
    ]);
    // The demo prints who passed by role, never the person id (the ledger holds only a keyed digest).
    expect(lines.join('\n')).not.toMatch(/EMP-|CON-/);
  }, 90_000);
});
