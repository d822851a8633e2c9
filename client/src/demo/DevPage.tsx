import { useEffect, useState, type FormEvent } from 'react';
import { HeraldHttpError, requestJson } from '../notifications';
import type { Session } from './session';
import { postsApi } from './posts-api';

const TOKEN_KEY = 'herald.dev.serviceToken';

/** Development only: the curl command and a form that sends any notification with the service token. */
export function DevPage({ session }: { session: Session }) {
  const [users, setUsers] = useState<{ id: string; username: string; name: string }[]>([]);
  const [serviceToken, setServiceToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? '');
  const [to, setTo] = useState(session.user.id);
  const [title, setTitle] = useState('Hello from the developer page');
  const [body, setBody] = useState('');
  const [result, setResult] = useState<string | null>(null);

  useEffect(() => {
    void postsApi(session.token).users().then(setUsers);
  }, [session.token]);

  async function send(event: FormEvent) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, serviceToken);
    try {
      await requestJson('POST', '/api/notifications', {
        token: serviceToken,
        body: { userIds: [to], type: 'dev.test', title, ...(body ? { body } : {}) },
      });
      setResult('Sent (201).');
    } catch (e) {
      setResult(e instanceof HeraldHttpError ? `Refused (${e.status}): ${e.message}` : 'Could not reach the server.');
    }
  }

  const curl = `curl -X POST ${window.location.origin}/api/notifications \\
  -H "Authorization: Bearer $SERVICE_TOKEN" -H "Content-Type: application/json" \\
  -d '{"userIds":["${to}"],"type":"dev.test","title":"Hello from curl"}'`;

  return (
    <main className="app-main">
      <h2>Developer</h2>
      <p>
        A backend sends a notification like this (<code>SERVICE_TOKEN</code> is in <code>.env</code>):
      </p>
      <pre className="app-code">{curl}</pre>
      <form className="dev-form" onSubmit={(e) => void send(e)}>
        <label>
          Service token
          <input type="password" value={serviceToken} onChange={(e) => setServiceToken(e.target.value)} autoComplete="off" />
        </label>
        <label>
          To
          <select value={to} onChange={(e) => setTo(e.target.value)}>
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name} ({u.username})
              </option>
            ))}
          </select>
        </label>
        <label>
          Title
          <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} />
        </label>
        <label>
          Body
          <input value={body} onChange={(e) => setBody(e.target.value)} maxLength={2000} />
        </label>
        <button type="submit">Send notification</button>
        {result ? <p role="status">{result}</p> : null}
      </form>
    </main>
  );
}
