import { useMemo, useState } from 'preact/hooks';
import type { BoxState, FleetAlert, SessionInfo } from './fleet-types.ts';
import { boxHref } from './router.ts';
import { AGE_WORDS, ageClass, formatAge, oldestUnsyncedAgeNow } from './unsynced-age.ts';
import { type FleetView, useTick } from './use-fleet.ts';

type StatusFilter = 'all' | 'online' | 'offline';

export function FleetPage({
  fleet,
  session,
  offset,
}: {
  fleet: FleetView;
  session: SessionInfo;
  offset: number;
}) {
  const now = useTick(5000) + offset;
  const [status, setStatus] = useState<StatusFilter>('all');
  const [site, setSite] = useState('');
  const [withAlerts, setWithAlerts] = useState(false);
  const [text, setText] = useState('');
  const boxes = [...fleet.boxes.values()];
  const openByBox = useMemo(() => openAlertsByBox(fleet.alerts), [fleet.alerts]);
  const sites = [...new Set(boxes.map((b) => b.siteId))].sort();
  const needle = text.trim().toLowerCase();
  const shown = boxes.filter(
    (b) =>
      (status === 'all' || (status === 'online') === b.online) &&
      (site === '' || b.siteId === site) &&
      (!withAlerts || (openByBox.get(b.boxId)?.length ?? 0) > 0) &&
      (needle === '' || searchText(b).includes(needle)),
  );
  const online = boxes.filter((b) => b.online).length;
  return (
    <section aria-labelledby="fleet-title">
      <h2 id="fleet-title">Fleet</h2>
      <p>
        {boxes.length} boxes: {online} online, {boxes.length - online} offline. RPO{' '}
        {Math.round(session.rpoSeconds / 60)} min (004 §5.2 c).
      </p>
      <form class="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value as StatusFilter)}>
            <option value="all">All</option>
            <option value="online">Online</option>
            <option value="offline">Offline</option>
          </select>
        </label>
        <label>
          Site
          <select value={site} onChange={(e) => setSite(e.currentTarget.value)}>
            <option value="">All sites</option>
            {sites.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={withAlerts}
            onChange={(e) => setWithAlerts(e.currentTarget.checked)}
          />
          Has open alerts
        </label>
        <label>
          Search
          <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
      </form>
      {!fleet.loaded ? (
        <p role="status">Loading the fleet…</p>
      ) : (
        <table aria-label="Boxes">
          <thead>
            <tr>
              <th scope="col">Box</th>
              <th scope="col">Site</th>
              <th scope="col">Status</th>
              <th scope="col">Oldest unsynced</th>
              <th scope="col">Terminals</th>
              <th scope="col">Open alerts</th>
              <th scope="col">Agent</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((b) => (
              <BoxRow
                key={b.boxId}
                box={b}
                now={now}
                rpo={session.rpoSeconds}
                open={openByBox.get(b.boxId) ?? []}
              />
            ))}
          </tbody>
        </table>
      )}
      {fleet.loaded && shown.length === 0 && <p>No box matches these filters.</p>}
      <FirmwareSummary boxes={boxes} />
    </section>
  );
}

function BoxRow({ box, now, rpo, open }: { box: BoxState; now: number; rpo: number; open: FleetAlert[] }) {
  const age = oldestUnsyncedAgeNow(box, now);
  const cls = ageClass(age, rpo);
  const terminals = box.health?.terminals ?? [];
  const up = terminals.filter((t) => t.up).length;
  return (
    <tr>
      <th scope="row">
        <a href={boxHref(box.boxId)}>{box.boxId}</a>
      </th>
      <td>{box.siteId}</td>
      <td>
        <span class={box.online ? 'status-online' : 'status-offline'}>
          {box.online ? 'online' : 'offline'}
        </span>
      </td>
      <td>
        <span class={`age ${cls}`} title={AGE_WORDS[cls]}>
          {formatAge(age)} <span class="age-words">({AGE_WORDS[cls]})</span>
        </span>
      </td>
      <td>
        {up}/{terminals.length} up
      </td>
      <td>{open.length}</td>
      <td>{box.agentVersion}</td>
    </tr>
  );
}

/** Which terminal firmware runs where: one row per driver and version, with the boxes running it. */
function FirmwareSummary({ boxes }: { boxes: BoxState[] }) {
  const rows = new Map<string, { driver: string; firmware: string; terminals: number; boxes: Set<string> }>();
  for (const b of boxes)
    for (const t of b.health?.terminals ?? []) {
      const firmware = t.firmware ?? 'unknown';
      const key = `${t.driver}\u0000${firmware}`;
      const row = rows.get(key) ?? { driver: t.driver, firmware, terminals: 0, boxes: new Set<string>() };
      row.terminals++;
      row.boxes.add(b.boxId);
      rows.set(key, row);
    }
  if (rows.size === 0) return null;
  return (
    <table aria-label="Firmware versions">
      <caption>Firmware versions</caption>
      <thead>
        <tr>
          <th scope="col">Driver</th>
          <th scope="col">Firmware</th>
          <th scope="col">Terminals</th>
          <th scope="col">Boxes</th>
        </tr>
      </thead>
      <tbody>
        {[...rows.values()]
          .sort((a, b) => a.driver.localeCompare(b.driver) || a.firmware.localeCompare(b.firmware))
          .map((r) => (
            <tr key={`${r.driver}/${r.firmware}`}>
              <td>{r.driver}</td>
              <td>{r.firmware}</td>
              <td>{r.terminals}</td>
              <td>{[...r.boxes].sort().join(', ')}</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}

function openAlertsByBox(alerts: readonly FleetAlert[]): Map<string, FleetAlert[]> {
  const map = new Map<string, FleetAlert[]>();
  for (const a of alerts) if (a.resolvedAt === null) map.set(a.boxId, [...(map.get(a.boxId) ?? []), a]);
  return map;
}

const searchText = (b: BoxState) =>
  [b.boxId, b.siteId, b.agentVersion, ...(b.health?.terminals ?? []).flatMap((t) => [t.id, t.firmware ?? ''])]
    .join(' ')
    .toLowerCase();
