import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { keyedHolderDigests, legacyHolderDigests, warmUpSm2 } from '@sceneway/cloud-sync';
import type {
  DriverDefinition,
  DriverFirmware,
  ReplyTo,
  TerminalEvent,
  TerminalProbeResult,
  TransportFactory,
} from '@sceneway/device-drivers';
import { createTransportFactory, type TransportParts } from '@sceneway/device-drivers';
import { type AdminServer, type AgentStatus, startAdminServer } from './admin/admin-server.ts';
import { createAgentMetrics } from './admin/agent-metrics.ts';
import { AlertBoard } from './alerts.ts';
import { createBrokerTransportHub } from './broker/broker-transports.ts';
import { startTerminalBroker, type TerminalBroker } from './broker/index.ts';
import { type Clock, measuredClock, systemClock } from './clock.ts';
import type { FullBoxConfig } from './config/driver-config.ts';
import { acknowledgedInsecurity } from './config/insecure-exceptions.ts';
import { driversPart, mqttGrantsOf, resolveDrivers, terminalsOf } from './drivers/driver-part.ts';
import { DRIVER_REGISTRY } from './drivers/registry.ts';
import { firmwarePart } from './firmware/firmware-part.ts';
import { firmwareRoutes } from './firmware/firmware-routes.ts';
import type { GatewayError } from './gateway-error.ts';
import { createInstaller, type Installer } from './installer/installer-api.ts';
import { boxEnrolmentRequest } from './keys/box-enrolment.ts';
import type { BoxSecrets } from './keys/box-keys.ts';
import { loadHolderKey } from './keys/holder-key.ts';
import { openTerminalKeyStore } from './keys/terminal-keys.ts';
import { cachedFreeSpace } from './ledger/disk-space.ts';
import { openLedger, type SqliteLedger } from './ledger/ledger.ts';
import { scheduleRetention } from './ledger/retention.ts';
import { type AgentPart, startLifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import { createEventRouter, type RunningScenario } from './scenarios/event-router.ts';
import { SCENARIO_REGISTRY } from './scenarios/registry.ts';
import type { ScenarioDefinition } from './scenarios/scenario-api.ts';
import { type BankClient, createBankClient } from './sync/bank-client.ts';
import { batchWorkerBundle, workerBatchBuilder } from './sync/batch-builder.ts';
import { scheduleBoxReconciliation } from './sync/recon-file.ts';
import { createReconUploader } from './sync/recon-upload.ts';
import { createUploader, type Uploader } from './sync/uploader.ts';
import { agentHealthReader, createTelemetryPart, sessionFile } from './telemetry/index.ts';
import { createTerminalBoard } from './terminal-board.ts';
import { AGENT_VERSION } from './version.ts';

export interface StartAgentOptions {
  config: FullBoxConfig;
  secrets: BoxSecrets;
  logger: Logger;
  clock?: Clock;
  /** Bindings of the byte transports; default the real serial ports and node-hid (tests: a fake USB bus). */
  transports?: Pick<TransportParts, 'serial' | 'hid' | 'http'>;
  drivers?: readonly DriverDefinition[];
  scenarios?: readonly ScenarioDefinition[];
  onBatchAcked?: (info: { batchSeq: number; lastSeq: number; records: number }) => void;
  /**
   * A WAL fsync failed (LEDGER_SYNC_FAILED): the ledger stopped writing, and the process owner must exit
   * so the supervisor restarts it and the boot check decides what is on disk (D17). `sceneway start`
   * exits with code 3.
   */
  onLedgerFatal?: (error: GatewayError) => void;
  /**
   * The config file this config was read from (`sceneway start --config`): the installer UI edits and
   * saves it. Absent, the UI can show the box but not save a config.
   */
  configFile?: string;
  /** Where the built installer UI is (default gateway-agent/dist/web). */
  installerWebDir?: string;
}

export interface RunningAgent {
  adminUrl: string;
  broker: TerminalBroker;
  ledger: SqliteLedger;
  readonly uploader: Uploader;
  alerts: AlertBoard;
  /** The installer's live test of one terminal (DriverInstance.probe through its driver). */
  probeTerminal(terminalId: string): Promise<TerminalProbeResult>;
  /** Names of the running parts in start order (stop runs the reverse). */
  parts(): string[];
  status(): AgentStatus;
  /** The same route a driver's event takes, for tools and tests that speak for a terminal. */
  submit<E extends TerminalEvent>(event: E): Promise<ReplyTo<E>>;
  stop(): Promise<void>;
}

/**
 * The agent is its parts, listed below as data in dependency order: the ledger first, terminals after it,
 * so no terminal is ever answered before the ledger that must hold its sale is open and verified; the
 * admin API opens once there is something to report, and the SM2 warm-up runs last, off the start path. startLifecycle stops them in reverse, and a part
 * that fails to start stops the ones already started.
 */
export async function startAgent(options: StartAgentOptions): Promise<RunningAgent> {
  const { config, secrets, logger } = options;
  const metrics = createAgentMetrics();
  const alerts = new AlertBoard(logger, (a) => metrics.alertsRaised.inc({ code: a.code }));
  const maxDriftMs = 60_000;
  const clock = measuredClock(options.clock ?? systemClock, {
    maxDriftMs,
    onDrift: (offsetMs) =>
      alerts.raise({
        code: 'CLOCK_DRIFT',
        message: `the box clock is ${(offsetMs / 1000).toFixed(0)} s off the bank's clock`,
        hint: 'Fix the box time source (NTP). Records keep the measured offset, so nothing is lost.',
      }),
    onDriftCleared: () => alerts.clear('CLOCK_DRIFT'),
  });
  const startedAt = clock.now();
  // Loud at every start, not only when the file was written (insecure-exceptions.ts).
  for (const warning of acknowledgedInsecurity(config)) {
    logger.warn({ insecure: warning.exception, field: warning.field }, warning.message);
  }
  const drivers = resolveDrivers(config.drivers, options.drivers ?? DRIVER_REGISTRY);
  const terminals = terminalsOf(drivers);
  const scenarioDefinitions = (options.scenarios ?? SCENARIO_REGISTRY).filter(
    (s) => config.scenarios[s.id] !== undefined,
  );
  const board = createTerminalBoard(logger);
  // D27: the holder key from the bank's enrolment answer in the key directory (SM2-sealed to this box).
  const holderKey = loadHolderKey({
    dir: config.keys.dir,
    boxId: config.box.id,
    privateKeyHex: secrets.privateKeyHex,
    bankPublicKeyHex: config.bank.publicKeyHex,
    bankUserId: config.bank.userId,
  });
  const holderDigests = holderKey ? keyedHolderDigests(holderKey) : legacyHolderDigests;
  // POS protocol v2: the tills' keys, sealed under the box key (`sceneway terminal provision`). An
  // altered store stops the start: it is never silently ignored.
  const terminalKeyStore = openTerminalKeyStore({
    dir: config.keys.dir,
    boxPrivateKeyHex: secrets.privateKeyHex,
  });
  const brokerHub = createBrokerTransportHub();
  const firmwareSeams = new Map<string, DriverFirmware>();
  const firmware = firmwarePart({ config, firmware: firmwareSeams, board, alerts, logger });

  // What the parts hand on to the parts after them; each is set by its part's start.
  let ledger!: SqliteLedger;
  let bankClient!: BankClient;
  let uploader!: Uploader;
  let broker!: TerminalBroker;
  let router!: ReturnType<typeof createEventRouter>;
  let admin!: AdminServer;
  let installer: Installer | undefined;
  let agentSubmit!: ReturnType<ReturnType<typeof createEventRouter>['submitterFor']>;
  const stopsOf: Record<string, () => Promise<void> | void> = {};

  const driverPart = driversPart({
    drivers,
    transports: (): TransportFactory =>
      createTransportFactory({ ...options.transports, mqtt: brokerHub.factory }),
    router: () => router,
    board,
    clock,
    logger,
    terminalKeys: terminalKeyStore.keys,
    firmware: firmwareSeams,
  });

  const parts: AgentPart[] = [
    {
      name: 'ledger',
      start() {
        ledger = openLedger({
          path: config.ledger.path,
          boxId: config.box.id,
          dataKey: secrets.dataKey,
          clock,
          quarantineDir: config.ledger.quarantineDir,
          freeSpaceFloorMb: config.ledger.freeSpaceFloorMb,
          alerts,
          logger: logger.child({ part: 'ledger' }),
          onAppended: (kind) => metrics.ledgerRecordsAppended.inc({ kind }),
          ...(options.onLedgerFatal ? { onFatal: options.onLedgerFatal } : {}),
        });
      },
      stop: () => ledger.close(),
    },
    {
      name: 'retention',
      start() {
        const retention = scheduleRetention({
          ledger,
          cron: config.retention.cron,
          days: config.retention.days,
          timezone: config.site.timezone,
          now: () => clock.now(),
          logger: logger.child({ part: 'retention' }),
        });
        stopsOf.retention = () => retention.stop();
      },
      stop: () => stopsOf.retention?.(),
    },
    {
      // One connection to the bank (keep-alive, mutual TLS read once) for the uploader, the reconciliation
      // upload and the scenarios' fetches; closed after all of them have stopped.
      name: 'bank-client',
      start() {
        bankClient = createBankClient({ baseUrl: config.bank.url, tls: config.bank.tls });
      },
      stop: () => bankClient.close(),
    },
    {
      name: 'reconciliation',
      start() {
        const reconUpload = createReconUploader({
          client: bankClient,
          boxId: config.box.id,
          boxPrivateKeyHex: secrets.privateKeyHex,
          userId: config.bank.userId,
          clock,
          logger: logger.child({ part: 'reconciliation' }),
          alerts,
        });
        const recon = scheduleBoxReconciliation({
          ledger,
          dir: config.reconciliation.dir,
          cron: config.reconciliation.cron,
          now: () => clock.now(),
          logger: logger.child({ part: 'reconciliation' }),
          upload: (report, path) => reconUpload.send(report, path),
        });
        stopsOf.reconciliation = () => {
          recon.stop();
          reconUpload.stop();
        };
      },
      stop: () => stopsOf.reconciliation?.(),
    },
    uploaderPart(),
    {
      name: 'scenarios',
      async start() {
        const running: RunningScenario[] = scenarioDefinitions.map((definition) => ({
          definition,
          instance: definition.create(
            {
              site: { id: config.site.id },
              ledger,
              clock,
              logger: logger.child({ part: 'scenario', scenario: definition.id }),
              alerts,
              bank: {
                client: bankClient,
                boxId: config.box.id,
                boxPrivateKeyHex: secrets.privateKeyHex,
                publicKeyHex: config.bank.publicKeyHex,
                userId: config.bank.userId,
                blacklistPollSeconds: config.bank.blacklistPollSeconds,
              },
              holderDigests,
              isBankReachable: () => uploader.status().consecutiveFailures === 0,
              // Asked on every sale: the same short-lived statfs cache the ledger's own floor check uses.
              freeDiskMb: cachedFreeSpace(dirname(config.ledger.path)),
              terminals,
            },
            config.scenarios[definition.id],
          ),
        }));
        router = createEventRouter({
          scenarios: running,
          onAgentEvent: (event, driverIndex) => {
            if (event.type === 'TerminalAlert') {
              // One active alert per code and terminal: a storm of bad MACs is one line for ops.
              alerts.raise({
                code: `${event.code}:${event.terminalId}`,
                message: `${event.terminalId}: ${event.detail}`,
              });
              return;
            }
            const driver = drivers[driverIndex];
            if (driver) board.record(driver.definition.id, event);
          },
          onReplied(event, reply) {
            if (event.type === 'SaleRequested') {
              const decision = reply as ReplyTo<typeof event>;
              metrics.salesDecided.inc({
                outcome: decision.outcome,
                reason: decision.outcome === 'declined' ? decision.reason : '',
              });
            }
            // Whatever a scenario recorded, the uploader may have something to send now.
            uploader.wake();
          },
        });
        agentSubmit = router.submitterFor(
          -1,
          undefined,
          scenarioDefinitions.flatMap((s) => s.handles),
        );
        for (const s of running) await s.instance.start?.();
        stopsOf.scenarios = async () => {
          for (const s of [...running].reverse()) await s.instance.stop?.();
        };
      },
      stop: () => stopsOf.scenarios?.(),
    },
    {
      name: 'broker',
      async start() {
        broker = await startTerminalBroker({
          terminals: mqttGrantsOf(drivers).map((g) => ({
            id: g.terminalId,
            username: g.username,
            passwordHash: g.passwordHash,
            publish: g.publish,
            subscribe: g.subscribe,
          })),
          services: config.broker.services,
          tcp: config.broker.tcp,
          tls: config.broker.tls,
          logger: logger.child({ part: 'broker' }),
          onTerminalMessage: brokerHub.onTerminalMessage,
          onTerminalConnection: brokerHub.onTerminalConnection,
          onLoginRefused: (reason) => metrics.brokerAuthFailures.inc({ reason }),
          onLockout: (scope) => {
            metrics.brokerLockouts.inc({ scope });
            alerts.raise({
              code: 'BROKER_LOGIN_LOCKOUT',
              message: `repeated failed MQTT logins: a terminal ${scope} is locked out of the broker`,
              hint: 'Someone on the site LAN is guessing terminal passwords, or a terminal has a wrong one. The broker log names the address and username.',
            });
          },
          onLockoutsCleared: () => alerts.clear('BROKER_LOGIN_LOCKOUT'),
          onConnectionDropped: (reason) => metrics.brokerConnectionsDropped.inc({ reason }),
          maxPacketBytes: config.broker.maxPacketBytes,
          maxConnections: config.broker.maxConnections,
          maxConnectionsPerAddress: config.broker.maxConnectionsPerAddress,
          newAddressConnectsPerSecond: config.broker.newAddressConnectsPerSecond,
        });
        brokerHub.attach(broker);
      },
      stop: () => broker.close(),
    },
    driverPart,
    firmware,
    {
      name: 'admin',
      async start() {
        installer = createInstaller({
          passwordHash: config.admin.installer?.passwordHash,
          configFile: options.configFile,
          adminHost: config.admin.host,
          boxPublicKeyHex: secrets.publicKeyHex,
          enrolmentRequest: () => boxEnrolmentRequest(config, secrets),
          terminals: () => board.list(),
          probe: (id) => driverPart.probe(id),
          checklist: () => ({
            uploader: uploader.status(),
            // Measured from the bank's signed acks only: before the first, there is nothing to trust.
            clockOffsetMs: uploader.status().batchesAcked > 0 ? clock.offsetMs() : null,
            maxDriftMs,
            terminals: board.list(),
          }),
          logger: logger.child({ part: 'installer' }),
          ...(options.installerWebDir ? { webDir: options.installerWebDir } : {}),
        });
        admin = await startAdminServer({
          installer,
          host: config.admin.host,
          port: config.admin.port,
          status,
          metrics,
          logger: logger.child({ part: 'admin' }),
          routes: firmwareRoutes({
            engine: () => firmware.engine(),
            tokenPath: config.firmware.apiTokenPath,
          }),
          beforeScrape: () => {
            const s = status();
            metrics.ledgerUnsyncedRecords.set(s.ledger.depth);
            metrics.ledgerOldestUnsyncedAge.set(s.ledger.oldestUnsyncedAgeSeconds ?? 0);
            metrics.ledgerHeadSeq.set(s.ledger.headSeq);
            metrics.brokerConnectedClients.set(broker.connectedTerminals().length);
            const defence = broker.loginDefence();
            metrics.brokerLoginChecksQueued.set(defence.queued);
            for (const [scope, n] of Object.entries(defence.lockedOut))
              metrics.brokerLockedOut.set({ scope }, n);
            metrics.terminalsUp.reset();
            for (const t of board.list()) if (t.up) metrics.terminalsUp.inc({ driver: t.driver });
          },
        });
      },
      async stop() {
        await admin.close();
        await installer?.close();
      },
    },
    ...(config.telemetry ? [telemetryPart(config.telemetry)] : []),
    {
      // The first verification with the bank key builds its SM2 tables (≈60 ms, ≈150 ms of CPU): paid on
      // the first idle turn after every part is up (D21), so neither the cold start nor the first ack in
      // a lunch rush waits for it. Runs once; a stop before it ran cancels it.
      name: 'sm2-warm-up',
      start() {
        const pending = setImmediate(() =>
          warmUpSm2({
            verifyKeyHex: config.bank.publicKeyHex,
            signKeyHex: secrets.privateKeyHex,
            userId: config.bank.userId,
          }),
        );
        stopsOf['sm2-warm-up'] = () => clearImmediate(pending);
      },
      stop: () => stopsOf['sm2-warm-up']?.(),
    },
  ];

  /** Heartbeats and the retained status to the fleet broker (issue #14), after every part it reports on. */
  function telemetryPart(telemetry: NonNullable<FullBoxConfig['telemetry']>): AgentPart {
    const ledgerDisk = cachedFreeSpace(dirname(config.ledger.path), 5_000);
    let part: AgentPart | undefined;
    return {
      name: 'telemetry',
      start() {
        part = createTelemetryPart({
          link: {
            url: telemetry.url,
            intervalSeconds: telemetry.intervalSeconds,
            topicPrefix: telemetry.topicPrefix,
            ...(telemetry.username ? { username: telemetry.username } : {}),
            ...(telemetry.passwordPath
              ? { password: readFileSync(telemetry.passwordPath, 'utf8').trim() }
              : {}),
            ...(telemetry.caPath ? { ca: readFileSync(telemetry.caPath) } : {}),
          },
          boxId: config.box.id,
          siteId: config.site.id,
          agentVersion: AGENT_VERSION,
          clock,
          logger: logger.child({ part: 'telemetry' }),
          sessions: sessionFile(join(dirname(config.ledger.path), 'telemetry-session')),
          health: agentHealthReader({
            uptimeSeconds: () => (clock.now() - startedAt) / 1000,
            ledger: () => {
              const s = status().ledger;
              return {
                depth: s.depth,
                oldestUnsyncedAgeSeconds: s.oldestUnsyncedAgeSeconds,
                headSeq: s.headSeq,
                lastSyncedSeq: s.lastSyncedSeq,
              };
            },
            uploader: () => uploader.status(),
            terminals: () => board.list(),
            diskFreeMb: ledgerDisk,
            clockDriftMs: () => (uploader.status().batchesAcked > 0 ? clock.offsetMs() : null),
            firmwareCampaigns: () => firmware.campaignsForStatus(),
          }),
        });
        return part.start();
      },
      stop: () => part?.stop(),
    };
  }

  /** Recreated on every (re)start: a crashed uploader's loop and abort signal cannot be reused. */
  function uploaderPart(): AgentPart {
    // Batches are built on a worker thread when its bundle is there, so terminals never wait on sync.
    const workerPath = batchWorkerBundle();
    if (!workerPath)
      logger.warn('batch worker bundle not found (npm run build); building batches on the main thread');
    let onCrash: ((error: Error) => void) | undefined;
    return {
      name: 'uploader',
      start() {
        uploader = createUploader({
          ledger,
          ...(workerPath
            ? {
                builder: workerBatchBuilder(workerPath, {
                  ledgerPath: ledger.path,
                  dataKey: ledger.dataKey,
                  keys: {
                    boxPrivateKeyHex: secrets.privateKeyHex,
                    bankPublicKeyHex: config.bank.publicKeyHex,
                    userId: config.bank.userId,
                  },
                }),
              }
            : {}),
          boxId: config.box.id,
          boxPrivateKeyHex: secrets.privateKeyHex,
          bankPublicKeyHex: config.bank.publicKeyHex,
          bankUrl: config.bank.url,
          userId: config.bank.userId,
          client: bankClient,
          limits: config.sync,
          clock,
          logger: logger.child({ part: 'sync' }),
          alerts,
          onAck: (info) => {
            metrics.syncBatchesAcked.inc();
            options.onBatchAcked?.(info);
          },
          onFailure: (code) => metrics.syncFailures.inc({ code }),
          onClockSample: (offsetMs) => clock.sample(offsetMs),
          onCrash: (error) => onCrash?.(error),
        });
        uploader.start();
      },
      stop: () => uploader.stop(),
      supervise(callback) {
        onCrash = callback;
      },
    };
  }

  const status = (): AgentStatus => {
    const stats = ledger.stats();
    const sync = uploader.status();
    return {
      version: AGENT_VERSION,
      siteId: config.site.id,
      boxId: config.box.id,
      uptimeSeconds: (clock.now() - startedAt) / 1000,
      ledger: {
        headSeq: stats.headSeq,
        depth: stats.unsyncedCount,
        oldestUnsyncedAgeSeconds:
          stats.oldestUnsyncedAt === null ? null : (clock.now() - stats.oldestUnsyncedAt) / 1000,
        lastSyncedSeq: stats.lastSyncedSeq,
      },
      sync: {
        status: sync.state,
        lastError: sync.lastError ? `${sync.lastError.code}: ${sync.lastError.message}` : null,
      },
      terminals: board.list(),
      alerts: alerts.list().map((a) => ({ code: a.code, message: a.message, at: a.at })),
      firmwareCampaigns: firmware.campaignsForStatus(),
    };
  };

  const lifecycle = await startLifecycle(parts, { logger, alerts });
  return {
    adminUrl: admin.url,
    broker,
    ledger,
    get uploader() {
      return uploader;
    },
    alerts,
    parts: lifecycle.running,
    status,
    submit: (event) => agentSubmit(event),
    probeTerminal: (terminalId) => driverPart.probe(terminalId),
    stop: lifecycle.stop,
  };
}
