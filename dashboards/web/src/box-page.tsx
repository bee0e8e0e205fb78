import { useEffect, useMemo, useState } from 'preact/hooks';
import { AlertsTable } from './alerts-table.tsx';
import { fetchBox, fetchHistory, NotLoggedIn } from './api.ts';
import type { CampaignView, FleetAlert, HistoryPoint, SessionInfo } from './fleet-types.ts';
import { type Series, TimeChart } from './time-chart.tsx';
import { AGE_WORDS, ageClass, formatAge, formatTime, oldestUnsyncedAgeNow } from './unsynced-age.ts';
import { type FleetView, useTick } from './use-fleet.ts';

export function BoxPage({
  boxId,
  fleet,
  session,
  offset,
}: {
  boxId: string;
  fleet: FleetView;
  session: SessionInfo;
  offset: number;
}) {
  const now = useTick(5000) + offset;
  const [history, setHistory] = useState<HistoryPoint[] | null>(null);
  const [boxAlerts, setBoxAlerts] = useState<FleetAlert[]>([]);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    Promise.all([fetchBox(boxId), fetchHistory(boxId)]).then(
      ([b, h]) => {
        setBoxAlerts(b.alerts);
        setHistory(h.history);
      },
      (err: unknown) => {
        if (!(err instanceof NotLoggedIn)) setMissing(true);
      },
    );
  }, [boxId]);
  const box = fleet.boxes.get(boxId);
  // Live: each heartbeat the stream brings for this box is one more point on the charts.
  useEffect(() => {
    const h = box?.health;
    if (!box || !h || box.lastHeartbeatAt === null) return;
    const at = box.lastHeartbeatAt;
    setHistory((old) => {
      if (!old || (old.at(-1)?.receivedAt ?? 0) >= at) return old;
      return [
        ...old,
        {
          receivedAt: at,
          sentAt: at,
          session: box.session,
          seq: 0,
          ledgerDepth: h.ledger.depth,
          oldestUnsyncedAgeSeconds: h.ledger.oldestUnsyncedAgeSeconds,
          syncState: h.sync.state,
          diskFreeMb: h.diskFreeMb,
          terminalsDown: h.terminals.filter((t) => !t.up).length,
        },
      ].slice(-1000);
    });
  }, [box]);
  // Alerts of this box: the fetched list, updated by the stream's alert events.
  const alerts = useMemo(() => {
    const byId = new Map(boxAlerts.map((a) => [a.id, a]));
    for (const a of fleet.alerts) if (a.boxId === boxId) byId.set(a.id, a);
    return [...byId.values()].sort((a, b) => b.raisedAt - a.raisedAt);
  }, [boxAlerts, fleet.alerts, boxId]);
  const depth = useMemo<Series>(
    () => ({
      times: (history ?? []).map((p) => p.receivedAt),
      values: (history ?? []).map((p) => p.ledgerDepth),
    }),
    [history],
  );
  const unsynced = useMemo<Series>(
    () => ({
      times: (history ?? []).map((p) => p.receivedAt),
      values: (history ?? []).map((p) =>
        p.oldestUnsyncedAgeSeconds === null ? 0 : p.oldestUnsyncedAgeSeconds / 60,
      ),
    }),
    [history],
  );
  if (missing && !box) return <p role="alert">No box {boxId} is known to the fleet.</p>;
  if (!box) return <p role="status">Loading {boxId}…</p>;
  const age = oldestUnsyncedAgeNow(box, now);
  const cls = ageClass(age, session.rpoSeconds);
  const terminals = box.health?.terminals ?? [];
  return (
    <section aria-labelledby="box-title">
      <p>
        <a href="#/">← Fleet</a>
      </p>
      <h2 id="box-title">Box {box.boxId}</h2>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <span class={box.online ? 'status-online' : 'status-offline'}>
            {box.online ? 'online' : 'offline'}
          </span>{' '}
          ({box.reason}) since {formatTime(box.stateSince)}
        </dd>
        <dt>Site</dt>
        <dd>{box.siteId}</dd>
        <dt>Last heartbeat</dt>
        <dd>{box.lastHeartbeatAt === null ? 'none yet' : formatTime(box.lastHeartbeatAt)}</dd>
        <dt>Oldest unsynced</dt>
        <dd>
          <span class={`age ${cls}`}>
            {formatAge(age)} ({AGE_WORDS[cls]})
          </span>
        </dd>
        <dt>Agent version</dt>
        <dd>{box.agentVersion}</dd>
      </dl>
      <h3>Terminals</h3>
      {terminals.length === 0 ? (
        <p>No terminal reported.</p>
      ) : (
        <table aria-label="Terminals">
          <thead>
            <tr>
              <th scope="col">Terminal</th>
              <th scope="col">Driver</th>
              <th scope="col">State</th>
              <th scope="col">Firmware</th>
            </tr>
          </thead>
          <tbody>
            {terminals.map((t) => (
              <tr key={t.id}>
                <th scope="row">{t.id}</th>
                <td>{t.driver}</td>
                <td>
                  <span class={t.up ? 'status-online' : 'status-offline'}>{t.up ? 'up' : 'down'}</span>
                </td>
                <td>{t.firmware ?? 'unknown'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <FirmwareCampaigns campaigns={box.health?.firmwareCampaigns ?? []} />
      <h3>Over time</h3>
      {history === null ? (
        <p role="status">Loading history…</p>
      ) : (
        <div class="charts">
          <TimeChart title="Buffer depth" unit="records" series={depth} />
          <TimeChart title="Oldest unsynced" unit="min" series={unsynced} />
        </div>
      )}
      <h3>Open alerts</h3>
      <AlertsTable label="Open alerts" alerts={alerts.filter((a) => a.resolvedAt === null)} showBox={false} />
      <h3>Recent alerts</h3>
      <AlertsTable
        label="Resolved alerts"
        alerts={alerts.filter((a) => a.resolvedAt !== null)}
        showBox={false}
      />
    </section>
  );
}

/** The box's firmware campaigns from its last heartbeat: where each stands, terminal counts per state. */
function FirmwareCampaigns({ campaigns }: { campaigns: CampaignView[] }) {
  return (
    <>
      <h3>Firmware campaigns</h3>
      {campaigns.length === 0 ? (
        <p>No firmware campaign on this box.</p>
      ) : (
        <table aria-label="Firmware campaigns">
          <thead>
            <tr>
              <th scope="col">Campaign</th>
              <th scope="col">Family</th>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Terminals</th>
            </tr>
          </thead>
          <tbody>
            {campaigns.map((c) => (
              <tr key={c.id}>
                <th scope="row">{c.id}</th>
                <td>{c.family}</td>
                <td>{c.targetVersion}</td>
                <td>
                  <span class={c.status === 'paused' ? 'status-offline' : 'status-online'}>{c.status}</span>
                </td>
                <td>
                  {/* byState names every state in the agent's order (pending … refused): show those in use */}
                  {Object.entries(c.byState)
                    .filter(([, n]) => n > 0)
                    .map(([state, n]) => `${n} ${state}`)
                    .join(', ') || `${c.terminals} targeted`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
