export * from './ack-v1.ts';
export * from './batch-internals.ts';
export * from './batch-pii.ts';
export * from './batch-schema.ts';
export * from './batch-v1.ts';
export * from './enrolment.ts';
export * from './jcs.ts';
export * from './request-auth.ts';
