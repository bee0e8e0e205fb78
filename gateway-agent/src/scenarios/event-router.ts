import type { ReplyTo, TerminalEvent, TerminalEventType } from '@sceneway/device-drivers';
import { GatewayError } from '../gateway-error.ts';
import type { ScenarioDefinition, ScenarioInstance } from './scenario-api.ts';

export interface RunningScenario {
  definition: ScenarioDefinition;
  instance: ScenarioInstance;
}

/** Events the agent itself takes (the terminal board); no scenario decides about them. */
const AGENT_EVENTS: ReadonlySet<TerminalEventType> = new Set([
  'TerminalStatus',
  'FrameRejected',
  'TerminalAlert',
]);

type AnyHandler = (event: TerminalEvent) => Promise<unknown>;

export interface EventRouterOptions {
  scenarios: readonly RunningScenario[];
  /** TerminalStatus, FrameRejected and TerminalAlert, with the index of the driver entry that sent them. */
  onAgentEvent?(event: TerminalEvent, driverIndex: number): void;
  /** After a scenario replied (metrics, waking the uploader). Must not throw; errors are swallowed. */
  onReplied?(event: TerminalEvent, reply: unknown): void;
}

/**
 * Routes a driver's events by type. Each driver entry may name its scenario (`drivers[i].scenario`);
 * otherwise an event goes to the one running scenario that handles its type. Routing is decided per
 * driver when the agent starts, so an ambiguous or missing route is a start-up error naming the field,
 * never a surprise at the first sale.
 */
export function createEventRouter(options: EventRouterOptions) {
  const handlerOf = (scenario: RunningScenario, type: TerminalEventType): AnyHandler | undefined => {
    if (!scenario.definition.handles.includes(type)) return undefined;
    return scenario.instance.handlers[type] as AnyHandler | undefined;
  };

  /** The `submit` a driver's context gets. `scenarioId` is `drivers[i].scenario`, when set. */
  function submitterFor(
    driverIndex: number,
    scenarioId: string | undefined,
    emits: readonly TerminalEventType[],
  ): <E extends TerminalEvent>(event: E) => Promise<ReplyTo<E>> {
    const field = `drivers[${driverIndex}].scenario`;
    let candidates = options.scenarios;
    if (scenarioId !== undefined) {
      candidates = options.scenarios.filter((s) => s.definition.id === scenarioId);
      if (candidates.length === 0) {
        throw new GatewayError(
          'CONFIG_SCENARIO_UNKNOWN',
          `${field}: no scenario "${scenarioId}" runs in this agent`,
          `configure scenarios.${scenarioId}, or remove ${field}`,
        );
      }
    }
    const routes = new Map<TerminalEventType, AnyHandler>();
    const route = (type: TerminalEventType): AnyHandler => {
      const handlers = candidates.flatMap((s) => {
        const h = handlerOf(s, type);
        return h ? [{ id: s.definition.id, h }] : [];
      });
      if (handlers.length > 1) {
        throw new GatewayError(
          'CONFIG_SCENARIO_AMBIGUOUS',
          `${field}: scenarios ${handlers.map((h) => h.id).join(' and ')} both decide ${type}; name one`,
        );
      }
      const only = handlers[0];
      if (!only) {
        throw new GatewayError(
          'SCENARIO_UNHANDLED',
          `no scenario decides ${type} for drivers[${driverIndex}]`,
          `configure the scenario for this terminal family under scenarios.<id>`,
        );
      }
      return only.h;
    };
    for (const type of emits) if (!AGENT_EVENTS.has(type)) routes.set(type, route(type));

    return <E extends TerminalEvent>(event: E): Promise<ReplyTo<E>> => {
      if (AGENT_EVENTS.has(event.type)) {
        try {
          options.onAgentEvent?.(event, driverIndex);
        } catch {
          // The board is ours and cannot fail a terminal; a bug there must not reach the driver.
        }
        return Promise.resolve(undefined as ReplyTo<E>);
      }
      const handler = routes.get(event.type);
      if (!handler) {
        return Promise.reject(
          new GatewayError(
            'SCENARIO_UNHANDLED',
            `drivers[${driverIndex}] submitted ${event.type}, which it does not declare`,
          ),
        );
      }
      return handler(event).then((reply) => {
        try {
          options.onReplied?.(event, reply);
        } catch {
          // Metrics and wake-ups are best effort; the terminal's answer is not.
        }
        return reply as ReplyTo<E>;
      });
    };
  }

  return { submitterFor };
}
