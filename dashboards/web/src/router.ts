import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'fleet' } | { page: 'box'; boxId: string } | { page: 'alerts' };

/** Hash routes (`#/`, `#/boxes/<id>`, `#/alerts`): the server serves one page and needs no fallback. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const box = /^\/boxes\/([^/]+)$/.exec(path);
  if (box?.[1]) return { page: 'box', boxId: decodeURIComponent(box[1]) };
  if (path === '/alerts') return { page: 'alerts' };
  return { page: 'fleet' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export const boxHref = (boxId: string) => `#/boxes/${encodeURIComponent(boxId)}`;
