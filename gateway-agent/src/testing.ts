// @sceneway/gateway-agent/testing: test support shared with other packages' tests and rigs.
// Production code never imports it (docs/decisions.md D20).
export { connectClient, connectPacket, rawLogin } from './broker/broker-test-support.ts';
export { createBrokerTransportHub } from './broker/broker-transports.ts';
export { startTerminalBroker } from './broker/terminal-broker.ts';
export { saleInput, TEST_DATA_KEY } from './ledger/test-support.ts';
export { createSyncRig, freePort, type SyncRig, waitFor } from './sync/test-support.ts';
