import type { MqttTransport, MqttTransportFactory } from '@sceneway/device-drivers';
import { GatewayError } from '../gateway-error.ts';
import type { TerminalBroker } from './terminal-broker.ts';

interface Subscriber {
  onMessage: Array<(subtopic: string, payload: Buffer) => void>;
  onConnection: Array<(connected: boolean) => void>;
  connected: boolean;
  open: boolean;
}

export interface BrokerTransportHub {
  factory: MqttTransportFactory;
  /** Wire these into startTerminalBroker's options. */
  onTerminalMessage(terminalId: string, subtopic: string, payload: Buffer): void;
  onTerminalConnection(terminalId: string, connected: boolean): void;
  /** The broker the transports publish through, once it listens. */
  attach(broker: TerminalBroker): void;
}

/**
 * The embedded broker seen by drivers: one transport per MQTT terminal, scoped to its own topics. The
 * agent talks to the broker in-process (no socket, no second login), and a driver can reach only the
 * terminals it opened, through the ACL its definition declared.
 */
export function createBrokerTransportHub(): BrokerTransportHub {
  const byTerminal = new Map<string, Subscriber>();
  let broker: TerminalBroker | null = null;
  const connectedNow = new Set<string>();

  const factory: MqttTransportFactory = {
    async open(endpoint) {
      if (byTerminal.get(endpoint.terminalId)?.open) {
        throw new GatewayError('BROKER_TRANSPORT_BUSY', `terminal ${endpoint.terminalId} is already open`);
      }
      const sub: Subscriber = {
        onMessage: [],
        onConnection: [],
        connected: connectedNow.has(endpoint.terminalId),
        open: true,
      };
      byTerminal.set(endpoint.terminalId, sub);
      const transport: MqttTransport = {
        onMessage: (listener) => void sub.onMessage.push(listener),
        onConnection: (listener) => void sub.onConnection.push(listener),
        publish(subtopic, payload) {
          if (!sub.open || !broker) {
            return Promise.reject(
              new GatewayError('BROKER_CLOSED', `transport of ${endpoint.terminalId} is closed`),
            );
          }
          return broker.publishTo(endpoint.terminalId, subtopic, payload);
        },
        get connected() {
          return sub.connected;
        },
        get isOpen() {
          return sub.open;
        },
        async close() {
          sub.open = false;
          if (byTerminal.get(endpoint.terminalId) === sub) byTerminal.delete(endpoint.terminalId);
        },
      };
      return transport;
    },
  };

  return {
    factory,
    onTerminalMessage(terminalId, subtopic, payload) {
      const sub = byTerminal.get(terminalId);
      if (!sub?.open) return;
      for (const listener of sub.onMessage) listener(subtopic, payload);
    },
    onTerminalConnection(terminalId, connected) {
      if (connected) connectedNow.add(terminalId);
      else connectedNow.delete(terminalId);
      const sub = byTerminal.get(terminalId);
      if (!sub?.open) return;
      sub.connected = connected;
      for (const listener of sub.onConnection) listener(connected);
    },
    attach(b) {
      broker = b;
    },
  };
}
