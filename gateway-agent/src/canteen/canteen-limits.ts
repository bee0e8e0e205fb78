import type { BoxConfig } from '../config/schema.ts';

/** The canteen's limits exactly as the box config declares them (config/schema.ts `limits`; never written twice). */
export type CanteenLimits = BoxConfig['limits'];
