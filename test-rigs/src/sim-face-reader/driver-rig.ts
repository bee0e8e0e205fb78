import {
  type AccessDecision,
  createFaceReaderDriver,
  type FaceReaderConfigInput,
  type FaceReaderDriverInstance,
  type FaceRecognition,
  faceReaderConfigSchema,
  faceReaderDriver,
} from '@sceneway/device-drivers';
import { createTestDriverContext, type TestDriverContext } from '@sceneway/device-drivers/testing';
import { hashPassword, silentLogger } from '@sceneway/gateway-agent';
import { createBrokerTransportHub, startTerminalBroker } from '@sceneway/gateway-agent/testing';
import type { SimReaderOptions } from './sim-reader.ts';

/**
 * TESTS ONLY: the face-reader driver on the agent's real embedded broker (aedes on an ephemeral port,
 * the logins and topic ACL the driver declares), with the agent's side played by `decideAccess`. The
 * broker, its transport hub and the driver are production code; only the scenario is the test's.
 */
export interface FaceDriverRig {
  readonly test: TestDriverContext;
  /** The production driver (faceReaderDriver.create), typed with its image server for the firmware tests. */
  readonly driver: FaceReaderDriverInstance;
  readonly url: string;
  /** Login of reader `i` for startSimReader. */
  login(i?: number): Omit<SimReaderOptions, 'now' | 'faults'>;
  transportOpens(): number;
  /** The agent restarts (the broker and the readers' sessions stay): the driver stops, a new one starts. */
  restartDriver(): Promise<void>;
  close(): Promise<void>;
}

export const RIG_READERS = [
  { id: 'gate-1', username: 'gate-1-user', password: 'gate one pass 11' },
  { id: 'gate-2', username: 'gate-2-user', password: 'gate two pass 22' },
];

let hashed: string[] | undefined;

export async function startFaceDriverRig(options: {
  decideAccess(terminalId: string, recognition: FaceRecognition): Promise<AccessDecision> | AccessDecision;
  now?: () => number;
  commandTtlMs?: number;
  /** How many of RIG_READERS the driver entry configures; default all. */
  readers?: number;
  /** The firmware image server of the entry (host 127.0.0.1, port 0 unless given). */
  firmwareHttp?: Partial<NonNullable<FaceReaderConfigInput['firmwareHttp']>>;
}): Promise<FaceDriverRig> {
  hashed ??= RIG_READERS.map((r) => hashPassword(r.password));
  const config = faceReaderConfigSchema.parse({
    readers: RIG_READERS.slice(0, options.readers ?? RIG_READERS.length).map((r, i) => ({
      id: r.id,
      username: r.username,
      passwordHash: hashed?.[i],
    })),
    ...(options.commandTtlMs ? { commandTtlMs: options.commandTtlMs } : {}),
    ...(options.firmwareHttp
      ? { firmwareHttp: { host: '127.0.0.1', port: 0, ...options.firmwareHttp } }
      : {}),
  });
  const grants = faceReaderDriver.mqttTerminals?.(config) ?? [];
  const hub = createBrokerTransportHub();
  const broker = await startTerminalBroker({
    terminals: grants.map((g) => ({ ...g, id: g.terminalId })),
    tcp: { host: '127.0.0.1', port: 0 },
    logger: silentLogger,
    onTerminalMessage: hub.onTerminalMessage,
    onTerminalConnection: hub.onTerminalConnection,
  });
  hub.attach(broker);
  let opens = 0;
  const test = createTestDriverContext({
    transports: { open: () => Promise.reject(new Error('face readers open no byte transport')) },
    mqtt: {
      async open(endpoint, signal) {
        const t = await hub.factory.open(endpoint, signal);
        opens++;
        return t;
      },
    },
    decideAccess: options.decideAccess,
    ...(options.now ? { clock: { now: options.now } } : {}),
  });
  let driver = createFaceReaderDriver(test.ctx, config);
  const url = `mqtt://127.0.0.1:${broker.tcpAddress.port}`;
  return {
    test,
    get driver() {
      return driver;
    },
    async restartDriver() {
      await driver.stop();
      driver = createFaceReaderDriver(test.ctx, config);
      await driver.start();
    },
    url,
    login: (i = 0) => {
      const r = RIG_READERS[i] as (typeof RIG_READERS)[number];
      return { url, readerId: r.id, username: r.username, password: r.password };
    },
    transportOpens: () => opens,
    async close() {
      await driver.stop();
      test.abort();
      await broker.close();
    },
  };
}
