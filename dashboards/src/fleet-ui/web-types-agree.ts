// Compile-time only: the fleet server's JSON must carry every field the dashboard reads
// (dashboards/web/src/fleet-types.ts). A field renamed or retyped on the server fails `tsc` here.
import type * as Web from '../../web/src/fleet-types.ts';
import type { BoxState, FleetAlert, HistoryPoint } from '../fleet-server/fleet-store.ts';

type Holds<T extends true> = T;
export type WebTypesAgree = [
  Holds<BoxState extends Web.BoxState ? true : false>,
  Holds<FleetAlert extends Web.FleetAlert ? true : false>,
  Holds<HistoryPoint extends Web.HistoryPoint ? true : false>,
];
