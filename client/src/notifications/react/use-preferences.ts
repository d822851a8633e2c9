import { useCallback, useEffect, useState } from 'react';
import type { Preferences, PreferencesUpdate } from '@herald/shared';
import type { FeedApi } from '../core/feed-api.js';

/** Settings as a server that predates some of them answers: the missing ones are the defaults. */
function withDefaults(answer: Partial<Preferences>): Preferences {
  return {
    mutedTypes: answer.mutedTypes ?? [],
    categories: answer.categories ?? {},
    quietHours: answer.quietHours ?? null,
    critical: answer.critical ?? [],
    channels: answer.channels ?? ['inApp'],
  };
}

/** The user's settings, read once per API (token, user, server), and how to save them. */
export function usePreferences(api: FeedApi) {
  // Quiet hours hold toasts back.
  const [preferences, setPreferences] = useState<Preferences | null>(null);
  useEffect(() => {
    let current = true;
    api.preferences().then(
      (answer) => current && setPreferences(withDefaults(answer)),
      () => undefined, // no settings known: nothing is held back
    );
    return () => {
      current = false;
    };
  }, [api]);
  const savePreferences = useCallback(
    async (update: PreferencesUpdate) => {
      const saved = withDefaults(await api.savePreferences(update));
      setPreferences(saved);
      return saved;
    },
    [api],
  );

  return { preferences, savePreferences };
}
