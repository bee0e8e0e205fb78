import type {
  DriverDefinition,
  DriverInstance,
  MqttTerminalGrant,
  TerminalKey,
  TerminalProbeResult,
  TransportFactory,
} from '@sceneway/device-drivers';
import type { Clock } from '../clock.ts';
import type { DriverEntry } from '../config/driver-config.ts';
import { GatewayError } from '../gateway-error.ts';
import type { AgentPart } from '../lifecycle.ts';
import type { Logger } from '../logger.ts';
import type { createEventRouter } from '../scenarios/event-router.ts';
import type { TerminalBoard } from '../terminal-board.ts';

export interface ConfiguredDriver {
  index: number;
  definition: DriverDefinition;
  entry: DriverEntry;
}

/** Looks every `drivers[i].driver` up in the registry; an unknown one is a config error naming the field. */
export function resolveDrivers(
  entries: readonly DriverEntry[],
  registry: readonly DriverDefinition[],
): ConfiguredDriver[] {
  return entries.map((entry, index) => {
    const definition = registry.find((d) => d.id === entry.driver);
    if (!definition) {
      throw new GatewayError(
        'CONFIG_DRIVER_UNKNOWN',
        `drivers[${index}].driver: no driver "${entry.driver}" in this agent`,
      );
    }
    return { index, definition, entry };
  });
}

/**
 * Every terminal id → its driver, and each id a second entry uses again, by field (the ledger keys
 * records on the terminal id, so two terminals may not share one). Config validation lists the clashes;
 * the agent refuses to start on the first.
 */
export function terminalOwners(drivers: readonly ConfiguredDriver[]): {
  owners: Map<string, string>;
  clashes: Array<{ path: string; message: string }>;
} {
  const owners = new Map<string, string>();
  const clashes: Array<{ path: string; message: string }> = [];
  for (const { index, definition, entry } of drivers) {
    for (const id of definition.terminalIds(entry.config)) {
      if (owners.has(id)) {
        clashes.push({
          path: `drivers[${index}]`,
          message: `terminal id "${id}" is also used by another driver entry`,
        });
      } else owners.set(id, definition.id);
    }
  }
  return { owners, clashes };
}

export function terminalsOf(drivers: readonly ConfiguredDriver[]): Map<string, string> {
  const { owners, clashes } = terminalOwners(drivers);
  const first = clashes[0];
  if (first) {
    throw new GatewayError(
      'CONFIG_TERMINAL_DUPLICATE',
      `${first.path}: ${first.message}`,
      'give every terminal on the box its own id',
    );
  }
  return owners;
}

/** The MQTT logins and topic ACLs the broker must admit, declared by the drivers as data. */
export function mqttGrantsOf(drivers: readonly ConfiguredDriver[]): MqttTerminalGrant[] {
  return drivers.flatMap(({ definition, entry }) => definition.mqttTerminals?.(entry.config) ?? []);
}

/**
 * The drivers as one agent part: each gets its own context (transports, a child logger, the clock, an
 * AbortSignal of its own, and `submit` routed by the event router), and all start together.
 */
export function driversPart(options: {
  drivers: readonly ConfiguredDriver[];
  transports: () => TransportFactory;
  router: () => ReturnType<typeof createEventRouter>;
  board: TerminalBoard;
  clock: Clock;
  logger: Logger;
  /** The sealed terminal key store (keys/terminal-keys.ts); none = no till has a key. */
  terminalKeys?: (terminalId: string) => readonly TerminalKey[];
}): AgentPart & { probe(terminalId: string): Promise<TerminalProbeResult> } {
  let running: Array<{ instance: DriverInstance; abort: AbortController; terminalIds: string[] }> = [];
  return {
    name: 'drivers',
    async start() {
      const router = options.router();
      const transports = options.transports();
      for (const { index, definition, entry } of options.drivers) {
        const facts = definition.terminalFacts?.(entry.config) ?? {};
        for (const id of definition.terminalIds(entry.config)) {
          options.board.expect(id, definition.id, facts[id]);
        }
        // One controller per driver instance: fifty tills must not hang fifty listeners on one signal.
        const abort = new AbortController();
        const instance = definition.create(
          {
            transports,
            logger: options.logger.child({ part: 'driver', driver: definition.id, index }),
            clock: options.clock,
            signal: abort.signal,
            submit: router.submitterFor(index, entry.scenario, definition.emits),
            terminalKeys: options.terminalKeys ?? (() => []),
          },
          entry.config,
        );
        running.push({ instance, abort, terminalIds: definition.terminalIds(entry.config) });
      }
      await Promise.all(running.map((r) => r.instance.start()));
    },
    /** The installer's live test of one terminal, by the driver that owns it (DriverInstance.probe). */
    async probe(terminalId) {
      const owner = running.find((r) => r.terminalIds.includes(terminalId));
      if (!owner) {
        return {
          outcome: 'failed',
          code: 'INSTALLER_TERMINAL_UNKNOWN',
          detail: `no running driver has a terminal "${terminalId}" (saved but not restarted yet?)`,
        };
      }
      if (!owner.instance.probe) {
        return {
          outcome: 'failed',
          code: 'INSTALLER_PROBE_UNSUPPORTED',
          detail: 'this terminal family has no live test yet; its state on the board is what the agent knows',
        };
      }
      return owner.instance.probe(terminalId);
    },
    async stop() {
      const stopping = running;
      running = [];
      for (const r of stopping) r.abort.abort();
      await Promise.all(stopping.map((r) => r.instance.stop()));
    },
  };
}
