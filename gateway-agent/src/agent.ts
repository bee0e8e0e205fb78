import { dirname } from 'node:path';
import { warmUpSm2 } from '@sceneway/cloud-sync/crypto/sm2';
import type { DeviceEvent, DriverDefinition, DriverInstance } from '@sceneway/device-drivers/driver-api';
import type { TransportFactory } from '@sceneway/device-drivers/transport';
import { createTransportFactory } from '@sceneway/device-drivers/transports/index';
import { type AdminServer, type AgentStatus, startAdminServer } from './admin/admin-server.ts';
import { createAgentMetrics } from './admin/agent-metrics.ts';
import { AlertBoard } from './alerts.ts';
import { startTerminalBroker, type TerminalBroker } from './broker/index.ts';
import { startBlacklistPoller } from './canteen/blacklist-poller.ts';
import { createCanteenRules } from './canteen/index.ts';
import { type Clock, measuredClock, systemClock } from './clock.ts';
import type { FullBoxConfig } from './config/driver-config.ts';
import { DRIVER_REGISTRY } from './drivers/registry.ts';
import { GatewayError } from './gateway-error.ts';
import type { BoxSecrets } from './keys/box-keys.ts';
import { cachedFreeSpace } from './ledger/disk-space.ts';
import { openLedger, type SqliteLedger } from './ledger/ledger.ts';
import { scheduleRetention } from './ledger/retention.ts';
import type { Logger } from './logger.ts';
import { createBankClient } from './sync/bank-client.ts';
import { batchWorkerBundle, workerBatchBuilder } from './sync/batch-builder.ts';
import { scheduleBoxReconciliation } from './sync/recon-file.ts';
import { createReconUploader } from './sync/recon-upload.ts';
import { createUploader, type Uploader } from './sync/uploader.ts';
import { AGENT_VERSION } from './version.ts';

export interface StartAgentOptions {
  config: FullBoxConfig;
  secrets: BoxSecrets;
  logger: Logger;
  clock?: Clock;
  /** The production factory opens real ttys and HID devices; tests pass the same one on socat ptys. */
  transports?: TransportFactory;
  drivers?: readonly DriverDefinition[];
  onBatchAcked?: (info: { batchSeq: number; lastSeq: number; records: number }) => void;
}

export interface RunningAgent {
  adminUrl: string;
  broker: TerminalBroker;
  ledger: SqliteLedger;
  uploader: Uploader;
  rules: ReturnType<typeof createCanteenRules>;
  alerts: AlertBoard;
  status(): AgentStatus;
  stop(): Promise<void>;
}

interface TerminalState {
  driver: string;
  up: boolean;
  detail?: string;
}

/**
 * Starts every part of the agent in dependency order (ledger → rules → uploader → broker → drivers →
 * admin API) and stops them in reverse. Terminals are started last, so no terminal is ever answered
 * before the ledger that must hold its sale is open and verified.
 */
export async function startAgent(options: StartAgentOptions): Promise<RunningAgent> {
  const { config, secrets, logger } = options;
  const metrics = createAgentMetrics();
  const alerts = new AlertBoard(logger, (a) => metrics.alertsRaised.inc({ code: a.code }));
  const clock = measuredClock(options.clock ?? systemClock, {
    maxDriftMs: 60_000,
    onDrift: (offsetMs) =>
      alerts.raise({
        code: 'CLOCK_DRIFT',
        message: `the box clock is ${(offsetMs / 1000).toFixed(0)} s off the bank's clock`,
        hint: 'Fix the box time source (NTP). Records keep the measured offset, so nothing is lost.',
      }),
    onDriftCleared: () => alerts.clear('CLOCK_DRIFT'),
  });
  const startedAt = clock.now();
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'error while stopping');
      }
    }
  };

  try {
    const ledger = openLedger({
      path: config.ledger.path,
      boxId: config.box.id,
      dataKey: secrets.dataKey,
      clock,
      quarantineDir: config.ledger.quarantineDir,
      freeSpaceFloorMb: config.ledger.freeSpaceFloorMb,
      alerts,
      logger: logger.child({ part: 'ledger' }),
    });
    stops.push(() => ledger.close());
    const retention = scheduleRetention({
      ledger,
      cron: config.retention.cron,
      days: config.retention.days,
      timezone: config.limits.timezone,
      now: () => clock.now(),
      logger: logger.child({ part: 'retention' }),
    });
    stops.push(() => retention.stop());
    // One connection to the bank (keep-alive, mutual TLS material read once) for the uploader, the
    // reconciliation upload and the blacklist poller; closed after all of them have stopped.
    const bankClient = createBankClient({ baseUrl: config.bank.url, tls: config.bank.tls });
    stops.push(() => bankClient.close());
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
    stops.push(() => {
      recon.stop();
      reconUpload.stop();
    });

    // Batches are built on a worker thread when its bundle is there, so terminals never wait on sync.
    const workerPath = batchWorkerBundle();
    const buildKeys = {
      boxPrivateKeyHex: secrets.privateKeyHex,
      bankPublicKeyHex: config.bank.publicKeyHex,
      userId: config.bank.userId,
    };
    if (!workerPath)
      logger.warn('batch worker bundle not found (npm run build); building batches on the main thread');
    const uploader = createUploader({
      ledger,
      ...(workerPath
        ? {
            builder: workerBatchBuilder(workerPath, {
              ledgerPath: ledger.path,
              dataKey: ledger.dataKey,
              keys: buildKeys,
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
      onClockSample: (offsetMs) => clock.sample(offsetMs),
    });
    uploader.start();
    stops.push(() => uploader.stop());

    const rules = createCanteenRules({
      ledger,
      limits: config.limits,
      bankPublicKeyHex: config.bank.publicKeyHex,
      bankUserId: config.bank.userId,
      clock,
      isBankReachable: () => uploader.status().consecutiveFailures === 0,
      // Asked on every sale: the same short-lived statfs cache the ledger's own floor check uses.
      freeDiskMb: cachedFreeSpace(dirname(config.ledger.path)),
      alerts: {
        raise: (code: string, message: string, hint?: string) =>
          alerts.raise({ code, message, ...(hint ? { hint } : {}) }),
        clear: (code: string) => alerts.clear(code),
      },
      logger: logger.child({ part: 'canteen' }),
    });
    if (config.bank.blacklistPollSeconds > 0) {
      const poller = startBlacklistPoller({
        client: bankClient,
        boxId: config.box.id,
        boxPrivateKeyHex: secrets.privateKeyHex,
        userId: config.bank.userId,
        intervalMs: config.bank.blacklistPollSeconds * 1000,
        clock,
        logger: logger.child({ part: 'canteen' }),
        alerts,
        currentVersion: () => rules.blacklistVersion(),
        apply: (signed) => rules.applyBlacklist(signed),
      });
      stops.push(() => poller.stop());
    }

    const broker = await startTerminalBroker({
      terminals: config.mqttTerminals,
      tcp: config.broker.tcp,
      tls: config.broker.tls,
      logger: logger.child({ part: 'broker' }),
    });
    stops.push(() => broker.close());

    const terminals = new Map<string, TerminalState>();
    const transports = options.transports ?? createTransportFactory();
    const registry = options.drivers ?? DRIVER_REGISTRY;
    // One controller per driver instance: drivers listen on their signal, and a site with fifty tills
    // would otherwise hang fifty listeners on one shared signal.
    const driverAborts: AbortController[] = [];
    const instances: DriverInstance[] = [];
    for (const [index, entry] of config.drivers.entries()) {
      const definition = registry.find((d) => d.id === entry.driver);
      if (!definition) {
        throw new GatewayError(
          'CONFIG_DRIVER_UNKNOWN',
          `drivers[${index}].driver: no driver "${entry.driver}" in this agent`,
        );
      }
      const driverLogger = logger.child({ part: 'driver', driver: definition.id, index });
      const driverAbort = new AbortController();
      driverAborts.push(driverAbort);
      const onEvent = (event: DeviceEvent) => {
        if (event.type === 'terminal-up')
          terminals.set(event.terminalId, {
            driver: definition.id,
            up: true,
            ...(event.detail ? { detail: event.detail } : {}),
          });
        if (event.type === 'terminal-down')
          terminals.set(event.terminalId, { driver: definition.id, up: false, detail: event.reason });
        if (event.type === 'frame-error')
          driverLogger.warn({ terminal: event.terminalId, code: event.code }, event.detail);
      };
      const instance = definition.create(
        {
          transports,
          logger: driverLogger,
          clock,
          signal: driverAbort.signal,
          emit: (event) => {
            try {
              onEvent(event);
            } catch (err) {
              driverLogger.error({ err: (err as Error).message }, 'event handler failed');
            }
          },
          decideSale: async (terminalId, sale) => {
            const decision = await rules.decideSale(terminalId, sale);
            metrics.salesDecided.inc({
              outcome: decision.outcome,
              reason: decision.outcome === 'declined' ? decision.reason : '',
            });
            if (decision.outcome === 'approved') uploader.wake();
            return decision;
          },
          siteState: { blacklistVersion: () => rules.blacklistVersion() },
          decideVoid: async (terminalId, request) => {
            const decision = await rules.decideVoid(terminalId, request);
            if (decision.outcome === 'approved') uploader.wake();
            return decision;
          },
        },
        entry.config,
      );
      instances.push(instance);
    }
    stops.push(async () => {
      for (const a of driverAborts) a.abort();
      await Promise.all(instances.map((i) => i.stop()));
    });
    await Promise.all(instances.map((i) => i.start()));

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
        terminals: [...terminals.entries()].map(([id, t]) => ({ id, ...t })),
        alerts: alerts.list().map((a) => ({ code: a.code, message: a.message, at: a.at })),
      };
    };

    const admin: AdminServer = await startAdminServer({
      host: config.admin.host,
      port: config.admin.port,
      status,
      metrics,
      logger: logger.child({ part: 'admin' }),
      beforeScrape: () => {
        const s = status();
        metrics.ledgerUnsyncedRecords.set(s.ledger.depth);
        metrics.ledgerOldestUnsyncedAge.set(s.ledger.oldestUnsyncedAgeSeconds ?? 0);
        metrics.ledgerHeadSeq.set(s.ledger.headSeq);
        metrics.brokerConnectedClients.set(broker.connectedTerminals().length);
        metrics.terminalsUp.reset();
        for (const t of terminals.values()) if (t.up) metrics.terminalsUp.inc({ driver: t.driver });
      },
    });
    stops.push(() => admin.close());

    // The first signature and the first verification with the bank key build SM2 tables (≈150 ms):
    // pay that on the first idle tick after start, long before a lunch rush, not on the way to ready
    // (D21). An ack that arrives earlier builds the table it needs itself; nothing waits on this.
    const warmUp = setImmediate(() =>
      warmUpSm2({
        verifyKeyHex: config.bank.publicKeyHex,
        signKeyHex: secrets.privateKeyHex,
        userId: config.bank.userId,
      }),
    );
    stops.push(() => clearImmediate(warmUp));

    return { adminUrl: admin.url, broker, ledger, uploader, rules, alerts, status, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
