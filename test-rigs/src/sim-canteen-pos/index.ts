export {
  type CanteenPosSim,
  type CanteenPosSimOptions,
  type SaleResult,
  type SimTill,
  startCanteenPosSim,
} from './sim.ts';
export { type LineFaults, SimLine } from './sim-line.ts';
export { type ReceivedFrame, SimTerminal, type TerminalFaults } from './sim-terminal.ts';
