import type { FleetStore } from './fleet-store.ts';

export interface ReadAnswer {
  status: number;
  body: unknown;
}

const BOX_PATH = /^\/boxes\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})(\/history)?$/;

/**
 * The fleet's read routes, one answer for both doors: `/api/...` (bearer token, for machines) and
 * `/ui/api/...` (session cookie, for the dashboard). `path` is what follows the prefix; null when it
 * names no read route.
 */
export async function readFleet(
  store: FleetStore,
  path: string,
  params: URLSearchParams,
): Promise<ReadAnswer | null> {
  if (path === '/boxes') return { status: 200, body: { boxes: await store.boxes() } };
  if (path === '/alerts')
    return { status: 200, body: { alerts: await store.alerts({ activeOnly: params.get('all') !== '1' }) } };
  const match = BOX_PATH.exec(path);
  if (!match?.[1]) return null;
  const boxId = match[1];
  const box = await store.box(boxId);
  if (!box) return { status: 404, body: { error: `no box ${boxId}` } };
  if (match[2]) {
    const limit = Math.min(Math.max(Number(params.get('limit') ?? 500) || 500, 1), 5000);
    return { status: 200, body: { boxId, history: await store.history(boxId, limit) } };
  }
  if (params.get('all') === '1')
    return {
      status: 200,
      body: { box, alerts: await store.alerts({ activeOnly: false, boxId, limit: 100 }) },
    };
  return { status: 200, body: { box, alerts: await store.alerts({ activeOnly: true, boxId }) } };
}
