import { useCallback, useEffect, useState } from 'preact/hooks';
import { AlertsPage } from './alerts-page.tsx';
import { fetchSession, logout, NotLoggedIn } from './api.ts';
import { BoxPage } from './box-page.tsx';
import { FleetPage } from './fleet-page.tsx';
import type { SessionInfo } from './fleet-types.ts';
import { LoginPage } from './login-page.tsx';
import { useRoute } from './router.ts';
import { useFleet } from './use-fleet.ts';

export function App() {
  const [session, setSession] = useState<SessionInfo | null | 'unknown'>('unknown');
  useEffect(() => {
    fetchSession().then(setSession, (err: unknown) =>
      setSession(err instanceof NotLoggedIn ? null : 'unknown'),
    );
  }, []);
  if (session === 'unknown') return <p role="status">Loading…</p>;
  if (session === null) return <LoginPage onLoggedIn={setSession} />;
  return <Dashboard session={session} onLoggedOut={() => setSession(null)} />;
}

function Dashboard({ session, onLoggedOut }: { session: SessionInfo; onLoggedOut: () => void }) {
  const loggedOut = useCallback(onLoggedOut, []);
  const fleet = useFleet(loggedOut);
  const route = useRoute();
  // The server's clock, not the page's: ages are differences of fleet-server times.
  const [offset] = useState(() => session.serverNow - Date.now());
  const activeCount = fleet.alerts.filter((a) => a.resolvedAt === null).length;
  return (
    <>
      <header class="top">
        <h1>Sceneway fleet</h1>
        <nav aria-label="Main">
          <a href="#/" aria-current={route.page === 'fleet' ? 'page' : undefined}>
            Fleet
          </a>
          <a href="#/alerts" aria-current={route.page === 'alerts' ? 'page' : undefined}>
            Alerts ({activeCount} open)
          </a>
        </nav>
        <span role="status" aria-label="Live updates" class={`live live-${fleet.live}`}>
          {fleet.live === 'live' ? 'Live' : fleet.live === 'connecting' ? 'Connecting…' : 'Live updates lost'}
        </span>
        <span class="user">{session.user}</span>
        <button
          type="button"
          onClick={async () => {
            await logout(session.csrfToken);
            onLoggedOut();
          }}
        >
          Log out
        </button>
      </header>
      <main>
        {route.page === 'fleet' && <FleetPage fleet={fleet} session={session} offset={offset} />}
        {route.page === 'box' && (
          <BoxPage key={route.boxId} boxId={route.boxId} fleet={fleet} session={session} offset={offset} />
        )}
        {route.page === 'alerts' && <AlertsPage fleet={fleet} />}
      </main>
    </>
  );
}
