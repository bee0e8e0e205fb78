import { readFileSync } from 'node:fs';
import { censorUnlessMasked, redactedLogPaths } from '@sceneway/core';
import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { uiUsersFromFile } from '../fleet-ui/ui-users.ts';
import { DEFAULT_THRESHOLDS } from './alert-rules.ts';
import { FLEET_TOKEN_ENV, fleetTokenFrom } from './api-token.ts';
import { startFleetServer } from './fleet-server.ts';
import { SqlFleetStore } from './sql-fleet-store.ts';
import { postgresRunner, sqliteRunner } from './sql-runners.ts';

const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

export function fleetProgram(): Command {
  return new Command('sceneway-fleet')
    .description(
      'Fleet server: reads box telemetry from an MQTT shared subscription, keeps box state and history, raises alerts, serves a JSON API',
    )
    .showHelpAfterError()
    .option('--mqtt <url>', 'fleet broker (mqtt://, mqtts://, ws://, wss://)', 'mqtt://127.0.0.1:1883')
    .option('--mqtt-username <name>', 'username at the fleet broker')
    .option('--mqtt-password-file <file>', 'file holding the broker password')
    .option('--mqtt-ca <file>', 'PEM CA of the broker certificate')
    .option('--topic-prefix <prefix>', "the boxes' telemetry.topicPrefix", 'sceneway/fleet')
    .option(
      '--share-group <name>',
      'shared-subscription group: replicas with the same group split the load',
      'fleet',
    )
    .option('--db <path>', 'SQLite file of the fleet store (the default store)', 'sceneway-fleet.db')
    .option('--pg <url>', 'PostgreSQL URL (replaces --db; for several replicas serving one state)')
    .option('--pg-schema <name>', 'PostgreSQL schema holding the tables', 'sceneway_fleet')
    .option('--host <addr>', 'address the API listens on', '127.0.0.1')
    .option('--port <n>', 'API port (0 = any free port)', '8090')
    .option(
      '--token-file <file>',
      `bearer token of the API, from a 0600 file (or set ${FLEET_TOKEN_ENV}); never on the command line`,
    )
    .option('--webhook <url>', 'POST every alert raised and resolved here (JSON)')
    .option(
      '--offline-after <s>',
      'seconds without a heartbeat before a box is offline',
      positive,
      DEFAULT_THRESHOLDS.offlineAfterSeconds,
    )
    .option(
      '--rpo <minutes>',
      'oldest-unsynced age that raises FLEET_RPO_EXCEEDED (004 §5.2 c: 30)',
      positive,
      DEFAULT_THRESHOLDS.rpoSeconds / 60,
    )
    .option(
      '--disk-low <MiB>',
      'free ledger disk below which FLEET_DISK_LOW is raised',
      positive,
      DEFAULT_THRESHOLDS.diskLowMb,
    )
    .option(
      '--clock-drift <s>',
      'box clock offset beyond which FLEET_CLOCK_DRIFT is raised',
      positive,
      DEFAULT_THRESHOLDS.clockDriftSeconds,
    )
    .option(
      '--ui-users <file>',
      'turn the ops dashboard on: a 0600 file of lines name:<hash> (hashes from `sceneway broker hash-password`)',
    )
    .option(
      '--ui-origin <url>',
      'the dashboard URL users open when a TLS proxy fronts it (https://…): the Origin checked, and Secure cookies',
    )
    .option('--ui-idle-minutes <n>', 'dashboard sessions unused this long log out', positive, 30)
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace', 'info')
    .action(async (o) => {
      const logger = pino({
        name: 'sceneway-fleet',
        level: o.logLevel,
        timestamp: pino.stdTimeFunctions.isoTime,
        redact: { paths: redactedLogPaths(), censor: censorUnlessMasked },
      });
      const token = fleetTokenFrom(o.tokenFile);
      const store = new SqlFleetStore(o.pg ? postgresRunner(o.pg, o.pgSchema) : sqliteRunner(o.db));
      const server = await startFleetServer({
        store,
        token,
        logger,
        mqtt: {
          url: o.mqtt,
          topicPrefix: o.topicPrefix,
          shareGroup: o.shareGroup,
          ...(o.mqttUsername ? { username: o.mqttUsername } : {}),
          ...(o.mqttPasswordFile ? { password: readFileSync(o.mqttPasswordFile, 'utf8').trim() } : {}),
          ...(o.mqttCa ? { ca: readFileSync(o.mqttCa) } : {}),
        },
        http: { host: o.host, port: Number(o.port) },
        thresholds: {
          offlineAfterSeconds: o.offlineAfter,
          rpoSeconds: o.rpo * 60,
          diskLowMb: o.diskLow,
          clockDriftSeconds: o.clockDrift,
        },
        ...(o.webhook ? { webhook: { url: o.webhook } } : {}),
        ...(o.uiUsers
          ? {
              ui: {
                users: uiUsersFromFile(o.uiUsers),
                ...(o.uiOrigin ? { origin: o.uiOrigin } : {}),
                session: { idleMinutes: o.uiIdleMinutes },
              },
            }
          : {}),
      });
      logger.info({ url: server.url, store: store.dialect }, 'fleet server listening');
      // One line on stdout for whoever started it (the demo, a test): where the API is.
      process.stdout.write(`fleet API ${server.url}\n`);
      if (server.ui) process.stdout.write(`ops dashboard ${server.url}/\n`);
      const stop = () => {
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}

export async function main(argv: string[]): Promise<void> {
  try {
    await fleetProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`sceneway-fleet: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
