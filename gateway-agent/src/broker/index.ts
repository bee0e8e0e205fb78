export type { BrokerTlsConfig, ListenAddress } from './broker-listeners.ts';
export { hashPassword, verifyPassword, verifyPasswordAsync } from './password-hash.ts';
export { passwordWeakness } from './password-strength.ts';
export {
  type BrokerLogger,
  type LoginDefenceStats,
  type MqttService,
  type MqttTerminal,
  startTerminalBroker,
  type TerminalBroker,
  type TerminalBrokerOptions,
} from './terminal-broker.ts';
export { commandTopic, terminalPrefix } from './terminal-topics.ts';
