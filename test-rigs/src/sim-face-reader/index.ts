export { buildCli } from './cli.ts';
export { type Recognition, type SimReader, type SimReaderOptions, startSimReader } from './sim-reader.ts';
