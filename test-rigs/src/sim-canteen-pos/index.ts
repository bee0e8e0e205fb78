export {
  type CanteenPosSim,
  type CanteenPosSimOptions,
  type SaleResult,
  type SaleStatus,
  type SimFirmwareConfig,
  type SimTill,
  startCanteenPosSim,
} from './sim.ts';
export {
  readChunkLog,
  resentAcknowledged,
  SimFirmware,
  type SimFirmwareFaults,
  vendorKeyFromText,
} from './sim-firmware.ts';
export { type LineFaults, SimLine } from './sim-line.ts';
export {
  NakError,
  NoAnswerError,
  type ReceivedFrame,
  SimTerminal,
  type TerminalFaults,
  TillUpdatingError,
} from './sim-terminal.ts';
export type { OfflineRecord, TillKey } from './wire/index.ts';
