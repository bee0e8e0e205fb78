export { buildCli } from './cli.ts';
export type { SimFetch, SimFirmware, SimFirmwareFaults, SimFirmwareOptions } from './sim-firmware.ts';
export {
  type HeldPerson,
  type Recognition,
  type SimReader,
  type SimReaderOptions,
  startSimReader,
} from './sim-reader.ts';
