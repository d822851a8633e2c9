import { useEffect, useState, type FormEvent } from 'react';
import { NotificationComponent, NotificationProvider } from '@herald/client';
import '@herald/client/style.css';

interface Session {
  token: string;
  user: { id: string; name: string };
}

interface Post {
  id: string;
  authorId: string;
  title: string;
}

async function api<T>(path: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const response = await fetch(path, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  return body as T;
}

function Login({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState('');
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      onSignedIn(await api<Session>('/api/login', { method: 'POST', body: JSON.stringify(Object.fromEntries(form)) }));
    } catch (e) {
      setError(e instanceof Error ? e.message : 'Could not sign in');
    }
  };
  return (
    <form onSubmit={submit} aria-label="Sign in">
      <input name="email" type="email" placeholder="alice@example.com" required />
      <input name="password" type="password" placeholder="alice-password" required />
      <button type="submit">Sign in</button>
      {error ? <p role="alert">{error}</p> : null}
    </form>
  );
}

function Posts({ session }: { session: Session }) {
  const [posts, setPosts] = useState<Post[]>([]);
  useEffect(() => {
    api<{ posts: Post[] }>('/api/posts', { token: session.token }).then(
      ({ posts }) => setPosts(posts),
      () => setPosts([]),
    );
  }, [session.token]);
  const comment = async (event: FormEvent<HTMLFormElement>, post: Post) => {
    event.preventDefault();
    const form = event.currentTarget;
    const text = String(new FormData(form).get('text') ?? '');
    await api(`/api/posts/${post.id}/comments`, { method: 'POST', token: session.token, body: JSON.stringify({ text }) });
    form.reset();
  };
  return (
    <ul>
      {posts.map((post) => (
        <li key={post.id}>
          <h2>{post.title}</h2>
          <form onSubmit={(event) => void comment(event, post)}>
            <input name="text" placeholder="Write a comment" required />
            <button type="submit">Comment</button>
          </form>
        </li>
      ))}
    </ul>
  );
}

export default function App() {
  const [session, setSession] = useState<Session | null>(() => {
    const saved = sessionStorage.getItem('session');
    return saved ? (JSON.parse(saved) as Session) : null;
  });
  const signIn = (next: Session | null) => {
    if (next) sessionStorage.setItem('session', JSON.stringify(next));
    else sessionStorage.removeItem('session');
    setSession(next);
  };
  if (!session) return <Login onSignedIn={signIn} />;
  return (
    // Herald is mounted at /herald on this app's own server: same origin, so no serverUrl or CORS.
    <NotificationProvider
      token={session.token}
      userId={session.user.id}
      apiPath="/herald"
      socketPath="/herald/socket.io"
      onSignedOut={() => signIn(null)}
    >
      <header>
        <span>Signed in as {session.user.name}</span>
        <NotificationComponent />
      </header>
      <Posts session={session} />
    </NotificationProvider>
  );
}
