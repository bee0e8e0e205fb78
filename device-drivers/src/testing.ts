// @sceneway/device-drivers/testing: test support shared with other packages' tests and rigs.
// Production code never imports it (docs/decisions.md D20).

export { createFakeUsbBus } from './hid-reader/fake-hid-api.ts';
export {
  createTestDriverContext,
  type DeviceEvent,
  quietDriverLogger,
  type TestDriverContext,
} from './test-support/driver-context.ts';
