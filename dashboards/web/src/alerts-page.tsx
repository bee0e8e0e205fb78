import { AlertsTable } from './alerts-table.tsx';
import type { FleetView } from './use-fleet.ts';

export function AlertsPage({ fleet }: { fleet: FleetView }) {
  const open = fleet.alerts.filter((a) => a.resolvedAt === null);
  const recent = fleet.alerts.filter((a) => a.resolvedAt !== null).slice(0, 100);
  return (
    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title">Alerts</h2>
      <h3>Open</h3>
      <AlertsTable label="Open alerts" alerts={open} showBox />
      <h3>Recently resolved</h3>
      <AlertsTable label="Resolved alerts" alerts={recent} showBox />
    </section>
  );
}
