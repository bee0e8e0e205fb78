export * from './codes.ts';
export * from './crc16.ts';
export * from './firmware.ts';
export * from './frame.ts';
export * from './messages.ts';
export * from './tlv.ts';
export * from './v2.ts';
export { WireError } from './wire-error.ts';
