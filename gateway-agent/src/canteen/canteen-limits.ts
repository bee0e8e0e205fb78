/** The canteen's limits exactly as the box config declares them (canteen-config.ts; never written twice). */
export type { CanteenLimits } from './canteen-config.ts';
