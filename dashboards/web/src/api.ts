import type { BoxState, FleetAlert, HistoryPoint, SessionInfo } from './fleet-types.ts';

export class NotLoggedIn extends Error {}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status === 401) throw new NotLoggedIn('not logged in');
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export const fetchSession = () => getJson<SessionInfo>('/ui/api/session');
export const fetchBoxes = () => getJson<{ boxes: BoxState[] }>('/ui/api/boxes');
export const fetchAlerts = () => getJson<{ alerts: FleetAlert[] }>('/ui/api/alerts?all=1');
export const fetchBox = (id: string) =>
  getJson<{ box: BoxState; alerts: FleetAlert[] }>(`/ui/api/boxes/${encodeURIComponent(id)}?all=1`);
export const fetchHistory = (id: string) =>
  getJson<{ history: HistoryPoint[] }>(`/ui/api/boxes/${encodeURIComponent(id)}/history?limit=500`);

export async function login(
  username: string,
  password: string,
): Promise<{ ok: true; session: SessionInfo } | { ok: false; message: string }> {
  const res = await fetch('/ui/api/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await res.json().catch(() => ({}))) as { error?: string } & Partial<SessionInfo>;
  if (res.ok) return { ok: true, session: body as SessionInfo };
  return { ok: false, message: body.error ?? `login failed (HTTP ${res.status})` };
}

export async function logout(csrfToken: string): Promise<void> {
  await fetch('/ui/api/logout', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'x-csrf-token': csrfToken },
  });
}
