import { useCallback, useEffect, useState } from 'react';
import type { ErrorBody } from '@herald/shared';
import {
  frenchLabels,
  HeraldHttpError,
  NotificationComponent,
  NotificationProvider,
  type NotificationTab,
  type PreferenceCategory,
} from '../notifications';
import { DevPage } from './DevPage';
import { PostsPage } from './PostsPage';
import { postsApi } from './posts-api';
import { loadSession, login, saveSession, type Session } from './session';
import './app.css';

const DEMO_USERS = ['alice', 'bob', 'carol'];

/** The demo's notifications carry a category (see demo-routes): activity on your posts, or on posts you follow. */
const DEMO_WORDING = {
  en: {
    tabs: [
      { label: 'All', filter: {} },
      { label: 'Your posts', filter: { category: 'your-posts' } },
      { label: 'Following', filter: { category: 'following' } },
    ] satisfies NotificationTab[],
    categories: [
      { id: 'your-posts', label: 'Activity on your posts' },
      { id: 'following', label: 'Posts you follow' },
      { id: 'account', label: 'Account and security' },
    ] satisfies PreferenceCategory[],
  },
  fr: {
    tabs: [
      { label: 'Tout', filter: {} },
      { label: 'Vos posts', filter: { category: 'your-posts' } },
      { label: 'Suivis', filter: { category: 'following' } },
    ] satisfies NotificationTab[],
    categories: [
      { id: 'your-posts', label: 'Activité sur vos posts' },
      { id: 'following', label: 'Posts que vous suivez' },
      { id: 'account', label: 'Compte et sécurité' },
    ] satisfies PreferenceCategory[],
  },
};

type Language = keyof typeof DEMO_WORDING;

/** The demo's language (English or French), remembered in this browser. */
function useLanguage(): [Language, (language: Language) => void] {
  const [language, setLanguage] = useState<Language>(() => (localStorage.getItem('herald-demo-language') === 'fr' ? 'fr' : 'en'));
  const choose = useCallback((next: Language) => {
    localStorage.setItem('herald-demo-language', next);
    setLanguage(next);
  }, []);
  return [language, choose];
}

function usePath(): [string, (path: string) => void] {
  const [path, setPath] = useState(() => window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((to: string) => {
    if (to.startsWith('/')) {
      window.history.pushState(null, '', to);
      setPath(to);
    } else {
      window.location.assign(to);
    }
  }, []);
  return [path, navigate];
}

function LoginScreen({ onSignedIn, notice }: { onSignedIn: (session: Session) => void; notice: string | null }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function signIn(username: string) {
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await login(username));
    } catch (e) {
      setError(e instanceof HeraldHttpError ? e.message : 'Could not reach the server.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="app-login">
      <h1>Herald</h1>
      <p>A small social app with live notifications. Sign in as one of the demo users, and open a second window as another.</p>
      {notice ? (
        <p className="app-notice" role="status">
          {notice}
        </p>
      ) : null}
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
  const [devTools, setDevTools] = useState(false);
  const [path, navigate] = usePath();
  const [language, setLanguage] = useLanguage();
  // The workspace whose feed the bell shows: the default feed, or one of the demo's tenants.
  const [workspace, setWorkspace] = useState('');

  useEffect(() => {
    void postsApi('')
      .config()
      .then((c) => setDevTools(c.devTools))
      .catch(() => setDevTools(false));
  }, []);

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

  const postMatch = /^\/posts\/([0-9a-f]{24})$/.exec(path);
  return (
    <NotificationProvider
      token={session.token}
      userId={session.user.id}
      onSignedOut={signOut}
      {...(workspace ? { tenant: workspace } : {})}
    >
      <div className="app-shell">
        <header className="app-header">
          <a
            className="app-brand"
            href="/"
            onClick={(e) => {
              e.preventDefault();
              navigate('/');
            }}
          >
            Herald
          </a>
          <nav className="app-nav" aria-label="Main">
            {devTools ? (
              <a
                href="/dev"
                onClick={(e) => {
                  e.preventDefault();
                  navigate('/dev');
                }}
              >
                Developer
              </a>
            ) : null}
          </nav>
          <span className="app-spacer" />
          <select
            className="app-language"
            aria-label="Workspace"
            value={workspace}
            onChange={(e) => setWorkspace(e.target.value)}
            data-testid="workspace"
          >
            <option value="">Personal</option>
            <option value="acme">Acme</option>
            <option value="globex">Globex</option>
          </select>
          <select
            className="app-language"
            aria-label="Language"
            value={language}
            onChange={(e) => setLanguage(e.target.value as Language)}
            data-testid="language"
          >
            <option value="en">English</option>
            <option value="fr">Français</option>
          </select>
          <NotificationComponent
            onNavigate={navigate}
            tabs={DEMO_WORDING[language].tabs}
            preferenceCategories={DEMO_WORDING[language].categories}
            {...(language === 'fr' ? { labels: frenchLabels, locale: 'fr' } : { locale: 'en' })}
          />
          <span className="app-user" data-testid="current-user" data-user-id={session.user.id}>
            {session.user.name}
          </span>
          <button type="button" className="app-signout" onClick={() => signOut()}>
            Sign out
          </button>
        </header>
        {path === '/dev' && devTools ? (
          <DevPage session={session} />
        ) : (
          <PostsPage key={path} session={session} {...(postMatch ? { focusPostId: postMatch[1]! } : {})} />
        )}
      </div>
    </NotificationProvider>
  );
}
