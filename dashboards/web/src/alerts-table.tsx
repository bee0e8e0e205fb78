import type { FleetAlert } from './fleet-types.ts';
import { boxHref } from './router.ts';
import { formatTime } from './unsynced-age.ts';

export function AlertsTable({
  label,
  alerts,
  showBox,
}: {
  label: string;
  alerts: readonly FleetAlert[];
  showBox: boolean;
}) {
  if (alerts.length === 0) return <p>No {label.toLowerCase()}.</p>;
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          {showBox && <th scope="col">Box</th>}
          <th scope="col">Alert</th>
          <th scope="col">Message</th>
          <th scope="col">Raised</th>
          <th scope="col">Resolved</th>
        </tr>
      </thead>
      <tbody>
        {alerts.map((a) => (
          <tr key={a.id} class={a.resolvedAt === null ? 'alert-open' : 'alert-resolved'}>
            {showBox && (
              <td>
                <a href={boxHref(a.boxId)}>{a.boxId}</a>
              </td>
            )}
            <td>{a.code}</td>
            <td>{a.message}</td>
            <td>{formatTime(a.raisedAt)}</td>
            <td>{a.resolvedAt === null ? 'open' : formatTime(a.resolvedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
