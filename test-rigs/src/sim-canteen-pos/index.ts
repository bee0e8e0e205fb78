export {
  type CanteenPosSim,
  type CanteenPosSimOptions,
  type SaleResult,
  type SaleStatus,
  type SimTill,
  startCanteenPosSim,
} from './sim.ts';
export { type LineFaults, SimLine } from './sim-line.ts';
export {
  NakError,
  NoAnswerError,
  type ReceivedFrame,
  SimTerminal,
  type TerminalFaults,
} from './sim-terminal.ts';
export type { OfflineRecord, TillKey } from './wire/index.ts';
