import { useState } from 'preact/hooks';
import { login } from './api.ts';
import type { SessionInfo } from './fleet-types.ts';

export function LoginPage({ onLoggedIn }: { onLoggedIn: (s: SessionInfo) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    const result = await login(String(form.get('username') ?? ''), String(form.get('password') ?? ''));
    setBusy(false);
    if (result.ok) onLoggedIn(result.session);
    else setError(result.message);
  };
  return (
    <main class="login">
      <h1>Sceneway fleet</h1>
      <form onSubmit={submit} aria-label="Log in">
        <label>
          Username
          <input name="username" autocomplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}
