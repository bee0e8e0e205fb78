export { buildCli } from './cli.ts';
export {
  type HeldPerson,
  type Recognition,
  type SimReader,
  type SimReaderOptions,
  startSimReader,
} from './sim-reader.ts';
