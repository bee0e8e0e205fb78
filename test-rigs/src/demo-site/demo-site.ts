import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger, startAgent } from '@sceneway/gateway-agent';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import { type CanteenPosSim, startCanteenPosSim } from '../sim-canteen-pos/index.ts';
import { DEMO_FLEET_USER, demoPassword, fleetPortsFromEnv, startDemoFleet } from './demo-fleet.ts';
import { demoGates, GATE_READERS } from './demo-gates.ts';
import { startDemoParking } from './demo-parking.ts';
import {
  demoBoxConfig,
  enrolBox,
  ensureDemoBoxKeys,
  portsFromEnv,
  provisionDemoTills,
  startDemoBank,
} from './demo-parts.ts';
import { loadReceiptCounters, saveReceiptCounters } from './receipt-counters.ts';
import { playScriptedDay } from './scripted-day.ts';

/**
 * `npm start`: the whole site on one machine with embedded defaults only (DESIGN "The demo site"):
 * the reference bank (SQLite), the agent (aedes + SQLite ledger), and canteen POS simulators on socat
 * pty pairs opened with the real serialport, playing a scripted lunch, a parking lot with simulated
 * ONVIF cameras and a campus gate with simulated face readers on the agent's broker. Data lives in ./data/demo, so a
 * second start continues the same ledger and the same bank. Ctrl-C stops everything cleanly.
 */
const TILLS = ['north-till-1', 'north-till-2', 'south-till-1'];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    say('Usage: npm start   (runs the demo site; Ctrl-C stops it)');
    say('Env: SCENEWAY_ADMIN_PORT (8080), SCENEWAY_BROKER_PORT (0 = any), SCENEWAY_BANK_PORT (9080),');
    say('     SCENEWAY_FLEET_PORT (8090), SCENEWAY_FLEET_BROKER_PORT (0 = any),');
    say('     SCENEWAY_DEMO_DIR (./data/demo), SCENEWAY_LOG_LEVEL (warn)');
    return;
  }
  const dataDir = resolve(process.env.SCENEWAY_DEMO_DIR ?? 'data/demo');
  const ports = portsFromEnv(process.env);
  const fleetPorts = fleetPortsFromEnv(process.env);
  mkdirSync(dataDir, { recursive: true });
  const logger = createLogger({
    level: process.env.SCENEWAY_LOG_LEVEL ?? 'warn',
    destination: process.stderr,
  });
  const stops: Array<() => Promise<void> | void> = [];
  const abort = new AbortController();

  const { bank, privateKeyHex: bankPrivateKeyHex } = await startDemoBank(dataDir, ports.bank);
  stops.push(() => bank.close());
  const secrets = ensureDemoBoxKeys(dataDir);
  // The fleet broker and the fleet server with the ops dashboard, fed by this box's telemetry.
  const fleet = await startDemoFleet({ dataDir, ports: fleetPorts, logger });
  stops.push(() => fleet.stop());
  // The installer's password, new each start (only its hash goes into the config), printed once below.
  const installer = demoPassword();

  // One pty pair per till: the agent opens end a, the simulator end b, both through serialport.
  const ptyRoot = join(dataDir, 'pty');
  rmSync(ptyRoot, { recursive: true, force: true });
  const pairs: Array<{ id: string; pair: PtyPair }> = [];
  for (const id of TILLS) {
    const dir = join(ptyRoot, id);
    mkdirSync(dir, { recursive: true });
    pairs.push({ id, pair: await openPtyPair(dir) });
  }
  stops.push(async () => {
    for (const { pair } of pairs) await pair.close();
  });

  // A parking lot beside the canteen: two simulated ONVIF plate cameras (entry, exit) on loopback.
  const parking = await startDemoParking();
  stops.push(() => parking.stop());
  // A campus gate: an entry and an exit face reader, logging in to the agent's broker once it is up.
  const gates = demoGates();
  stops.push(() => gates.stop());

  const config = demoBoxConfig({
    dataDir,
    ports,
    bankUrl: bank.url,
    bankPrivateKeyHex,
    canteenLines: pairs.map(({ id, pair }) => ({ terminalId: id, path: pair.a })),
    extraDrivers: [...parking.drivers, ...gates.drivers],
    parking: parking.scenario,
    gates: gates.scenario,
    telemetry: fleet.telemetry,
    installerPasswordHash: installer.hash,
  });
  // The enrolment a real box sends with `sceneway keys enrolment-request`; the demo bank imports it.
  await enrolBox(bank, config, secrets, bankPrivateKeyHex);
  // Each till's key, as an installer provisions it (`sceneway terminal provision`) and loads it into the till.
  const tillKeys = provisionDemoTills(config, secrets);

  let firstAck = true;
  const agent = await startAgent({
    config,
    secrets,
    logger,
    // As `sceneway start` does: a ledger that could not be synced to disk stops the process (D17).
    onLedgerFatal: (error) => {
      say(`the ledger could not be synced to disk (${error.code}); stopping the demo`);
      process.exit(3);
    },
    onBatchAcked: (info) => {
      if (firstAck) {
        firstAck = false;
        say(
          `first batch acknowledged by the bank: batch ${info.batchSeq}, records up to #${info.lastSeq} (signed ack verified)`,
        );
      }
    },
  });
  stops.push(() => agent.stop());

  // A till keeps its receipt counter across restarts; the demo keeps it in its data folder (and never
  // goes below what the ledger already holds, in case the last stop was not clean).
  const receipts = loadReceiptCounters(dataDir, agent.ledger.db, TILLS);
  const sims: CanteenPosSim[] = [];
  for (const [i, { id, pair }] of pairs.entries()) {
    const key = tillKeys.get(id);
    sims.push(
      await startCanteenPosSim({
        path: pair.b,
        baudRate: 115200,
        firstReceiptNo: receipts[i] ?? 1,
        ...(key ? { key } : {}),
      }),
    );
  }
  stops.push(async () => {
    for (const sim of sims) await sim.close();
  });

  say('');
  say('Sceneway demo site is running (demo keys and data in ' + dataDir + '; passphrase is demo-only)');
  say(`  agent admin    ${agent.adminUrl}/api/status   ${agent.adminUrl}/metrics`);
  say(`  installer UI   ${agent.adminUrl}/ui/   password ${installer.password} (new each start)`);
  say(
    `  ops dashboard  ${fleet.fleet.url}/   user ${DEMO_FLEET_USER}, password ${fleet.login.password} (new each start)`,
  );
  say(`  fleet API      ${fleet.fleet.url}/api/boxes   bearer token in ${fleet.tokenFile}`);
  say(`  fleet broker   ${fleet.brokerUrl} (the box's telemetry: heartbeats, status, last will)`);
  say(`  bank ingest    ${bank.url}/api/status`);
  say(
    `  MQTT broker    mqtt://${agent.broker.tcpAddress.host}:${agent.broker.tcpAddress.port} (terminals log in per config)`,
  );
  say(
    `  canteen tills  ${TILLS.join(', ')} on socat pty pairs under ${ptyRoot} (POS protocol v2: MAC'd sessions, keys in the box's sealed store)`,
  );
  say('  parking lot    lot-entry-cam, lot-exit-cam (simulated ONVIF cameras; fees on the ledger at exit)');
  say(
    `  campus gates   ${GATE_READERS.map((r) => r.id).join(', ')} (simulated face readers on the MQTT broker; passages on the ledger)`,
  );
  say(
    `  ledger         head #${agent.ledger.stats().headSeq}; check it with: npx sceneway ledger verify --db ${config.ledger.path}`,
  );
  say('Ctrl-C stops everything; a second npm start continues the same ledger.');
  say('');

  const day = playScriptedDay({
    tills: sims.map((sim, i) => ({ id: TILLS[i]!, till: sim.till() })),
    bankPrivateKeyHex,
    siteId: config.site.id,
    blacklistVersion: async () =>
      (await agent.submit({ type: 'BlacklistVersionAsked', terminalId: 'demo' })).version,
    log: (line) => say(`  ${line}`),
    signal: abort.signal,
  });

  const lot = parking.play({ log: (line) => say(`  ${line}`), signal: abort.signal });
  const { host: brokerHost, port: brokerPort } = agent.broker.tcpAddress;
  const gate = gates
    .play({
      url: `mqtt://${brokerHost}:${brokerPort}`,
      log: (line) => say(`  ${line}`),
      signal: abort.signal,
    })
    .catch((err: unknown) => say(`  gates: the readers stopped: ${(err as Error).message}`));

  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  say('\nstopping the demo site...');
  abort.abort();
  await day;
  await lot;
  await gate;
  await gates.stop(); // the readers say DISCONNECT before the broker goes away
  saveReceiptCounters(
    dataDir,
    sims.map((sim) => sim.till().nextReceiptNo),
    TILLS,
  );
  // The agent first, so its drivers do not report the tills' ports closing under them.
  await agent.stop();
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (err) {
      say(`while stopping: ${(err as Error).message}`);
    }
  }
  say('stopped. Data kept in ' + dataDir);
}

main().catch((err: unknown) => {
  const e = err as { code?: string; message?: string; hint?: string };
  process.stderr.write(
    `demo failed: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n${e.hint ? `what to do: ${e.hint}\n` : ''}`,
  );
  process.exit(1);
});
