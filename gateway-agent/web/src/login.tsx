import { useState } from 'preact/hooks';
import { ApiError, login } from './api.ts';

export function Login(props: { onLoggedIn(): void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(password);
      props.onLoggedIn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'the box did not answer');
    } finally {
      setBusy(false);
      setPassword('');
    }
  };
  return (
    <form class="card login" onSubmit={submit}>
      <h2>Installer login</h2>
      <p>The installer password of this box (config admin.installer.passwordHash).</p>
      <label for="password">Password</label>
      <input
        id="password"
        type="password"
        autocomplete="current-password"
        value={password}
        onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
      />
      <button type="submit" disabled={busy || password === ''}>
        Log in
      </button>
      {error ? (
        <p class="error" role="alert">
          Login refused: {error}
        </p>
      ) : null}
    </form>
  );
}
