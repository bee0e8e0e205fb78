import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type LoadedConfig, loadConfig, logout, resumeSession } from './api.ts';
import { Login } from './login.tsx';
import { Wizard } from './wizard.tsx';
import './styles.css';

type View =
  | { kind: 'starting' }
  | { kind: 'login' }
  | { kind: 'wizard'; loaded: LoadedConfig }
  | { kind: 'error'; message: string };

function App() {
  const [view, setView] = useState<View>({ kind: 'starting' });
  const enter = async () => {
    try {
      setView({ kind: 'wizard', loaded: await loadConfig() });
    } catch (err) {
      setView({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  };
  useEffect(() => {
    void resumeSession().then((ok) => (ok ? enter() : setView({ kind: 'login' })));
  }, []);
  const leave = async () => {
    await logout().catch(() => undefined);
    setView({ kind: 'login' });
  };
  return (
    <main>
      <header>
        <h1>Sceneway box commissioning</h1>
        {view.kind === 'wizard' ? (
          <button type="button" class="logout" onClick={leave}>
            Log out
          </button>
        ) : null}
      </header>
      {view.kind === 'starting' ? <p>Connecting to the box…</p> : null}
      {view.kind === 'login' ? <Login onLoggedIn={enter} /> : null}
      {view.kind === 'wizard' ? (
        <Wizard loaded={view.loaded} onLogout={() => setView({ kind: 'login' })} />
      ) : null}
      {view.kind === 'error' ? (
        <p class="error" role="alert">
          {view.message}
        </p>
      ) : null}
    </main>
  );
}

render(<App />, document.getElementById('app')!);
