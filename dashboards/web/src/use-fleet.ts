import { useEffect, useState } from 'preact/hooks';
import { fetchAlerts, fetchBoxes, fetchSession, NotLoggedIn } from './api.ts';
import type { BoxState, FleetAlert } from './fleet-types.ts';

export type LiveState = 'connecting' | 'live' | 'lost';

export interface FleetView {
  boxes: ReadonlyMap<string, BoxState>;
  /** Active and recent alerts, newest first. */
  alerts: readonly FleetAlert[];
  live: LiveState;
  loaded: boolean;
}

const upsertAlert = (alerts: readonly FleetAlert[], alert: FleetAlert): FleetAlert[] =>
  [alert, ...alerts.filter((a) => a.id !== alert.id)].sort((a, b) => b.raisedAt - a.raisedAt);

/**
 * The fleet as the server pushes it (Server-Sent Events, `/ui/api/events`): the lists are fetched
 * when the stream opens (first time and after every reconnect, so nothing missed while it was down
 * stays missing), then kept current by `boxes` and `alert` events. No polling.
 */
export function useFleet(onLoggedOut: () => void): FleetView {
  const [view, setView] = useState<FleetView>({
    boxes: new Map(),
    alerts: [],
    live: 'connecting',
    loaded: false,
  });
  useEffect(() => {
    let closed = false;
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const reload = async () => {
      try {
        const [{ boxes }, { alerts }] = await Promise.all([fetchBoxes(), fetchAlerts()]);
        if (closed) return;
        setView((v) => ({ ...v, boxes: new Map(boxes.map((b) => [b.boxId, b])), alerts, loaded: true }));
      } catch (err) {
        if (err instanceof NotLoggedIn) onLoggedOut();
      }
    };
    const open = () => {
      source = new EventSource('/ui/api/events');
      source.addEventListener('hello', () => {
        setView((v) => ({ ...v, live: 'live' }));
        void reload();
      });
      source.addEventListener('boxes', (e) => {
        const { boxes } = JSON.parse((e as MessageEvent<string>).data) as { boxes: BoxState[] };
        setView((v) => {
          const next = new Map(v.boxes);
          for (const b of boxes) next.set(b.boxId, b);
          return { ...v, boxes: next };
        });
      });
      source.addEventListener('alert', (e) => {
        const { alert } = JSON.parse((e as MessageEvent<string>).data) as { alert: FleetAlert };
        setView((v) => ({ ...v, alerts: upsertAlert(v.alerts, alert) }));
      });
      source.onerror = () => {
        if (closed || !source) return;
        setView((v) => ({ ...v, live: source?.readyState === EventSource.CLOSED ? 'lost' : 'connecting' }));
        if (source.readyState !== EventSource.CLOSED) return; // the browser retries by itself
        // Refused (401 after a logout or expiry, 503 when the server is full): ask why, then retry.
        source = null;
        fetchSession().then(
          () => {
            if (!closed) retry = setTimeout(open, 3000);
          },
          (err: unknown) => {
            if (err instanceof NotLoggedIn) onLoggedOut();
            else if (!closed) retry = setTimeout(open, 3000);
          },
        );
      };
    };
    open();
    return () => {
      closed = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [onLoggedOut]);
  return view;
}

/** Re-renders every `ms` so ages keep growing between events. */
export function useTick(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
