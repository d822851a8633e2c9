import { useCallback, useState } from 'react';
import type { ErrorBody } from '@herald/shared';
import { ApiError, loadSession, login, saveSession, type Session } from './api';
import { NotificationComponent } from './notifications/NotificationComponent';
import './app.css';

const DEMO_USERS = ['alice', 'bob', 'carol'];

function LoginScreen({ onSignedIn, notice }: { onSignedIn: (session: Session) => void; notice: string | null }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function signIn(username: string) {
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await login(username));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Could not reach the server.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="app-login">
      <h1>Herald</h1>
      <p>Real-time notifications demo. Sign in as one of the demo users; open a second window as another user.</p>
      {notice ? <p className="app-notice">{notice}</p> : null}
      <div className="app-users">
        {DEMO_USERS.map((name) => (
          <button key={name} type="button" disabled={busy} onClick={() => void signIn(name)} data-testid={`login-${name}`}>
            Sign in as {name}
          </button>
        ))}
      </div>
      {error ? (
        <p role="alert" className="app-error">
          {error}
        </p>
      ) : null}
    </main>
  );
}

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((reason?: ErrorBody) => {
    saveSession(null);
    setSession(null);
    setNotice(reason ? `You were signed out: ${reason.message}` : null);
  }, []);

  if (!session) {
    return (
      <LoginScreen
        notice={notice}
        onSignedIn={(s) => {
          saveSession(s);
          setNotice(null);
          setSession(s);
        }}
      />
    );
  }

  return (
    <div className="app-shell">
      <header className="app-header">
        <span className="app-brand">Herald</span>
        <span className="app-spacer" />
        <NotificationComponent token={session.token} onSignedOut={signOut} />
        <span className="app-user" data-testid="current-user">
          {session.user.name}
        </span>
        <button type="button" className="app-signout" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main className="app-main">
        <h2>Hello, {session.user.name}</h2>
        <p>
          New notifications for you appear under the bell as they happen. Your user id is <code>{session.user.id}</code>; a backend sends
          you one with:
        </p>
        <pre className="app-code">{`curl -X POST http://localhost:3000/api/notifications \\
  -H "Authorization: Bearer $SERVICE_TOKEN" -H "Content-Type: application/json" \\
  -d '{"userIds":["${session.user.id}"],"type":"comment.created","title":"Hello from curl"}'`}</pre>
      </main>
    </div>
  );
}
