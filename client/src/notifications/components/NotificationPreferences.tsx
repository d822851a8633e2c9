import { useId, useState, type FormEvent } from 'react';
import type { Channel, ChannelPreferences, QuietHours } from '@herald/shared';
import { useNotificationPreferences } from '../react/hooks.js';
import { useWording } from './labels.js';

/**
 * A category the preferences panel lists: the `category` your backend publishes with, and its name.
 *
 * @example
 * const categories: PreferenceCategory[] = [{ id: 'social', label: 'Likes and comments' }, { id: 'security', label: 'Security alerts' }];
 */
export interface PreferenceCategory {
  id: string;
  label: string;
}

/** The browser's time zone, for new quiet hours. */
function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * The user's notification settings as a form: each category on or off per channel the deployment
 * delivers by (in the app; desktop with Web Push configured; email with SMTP; critical ones are shown as
 * always on), and quiet hours in the browser's time zone (no toasts then; the feed and badge still
 * update). Saved together; categories not listed here keep their settings.
 *
 * @example
 * <NotificationPreferences categories={[{ id: 'social', label: 'Likes and comments' }]} />
 */
export function NotificationPreferences({ categories }: { categories: PreferenceCategory[] }) {
  const { labels } = useWording();
  const { preferences, save } = useNotificationPreferences();
  // The user's changes over what is stored ("social.push": off); cleared on save.
  const [offEdits, setOffEdits] = useState<Record<string, boolean>>({});
  const [quietEdit, setQuietEdit] = useState<QuietHours | null | undefined>(undefined);
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved' | 'failed'>('idle');
  const formId = useId();
  if (!preferences) return <p className="hr-empty">{labels.loading}</p>;

  const critical = new Set(preferences.critical);
  const channels = preferences.channels;
  const channelLabel: Record<Channel, string> = { inApp: labels.channelInApp, push: labels.channelPush, email: labels.channelEmail };
  const isOff = (id: string, channel: Channel) =>
    !critical.has(id) && (offEdits[`${id}.${channel}`] ?? preferences.categories[id]?.[channel] === false);
  const channelsOf = (id: string): ChannelPreferences => ({
    inApp: !isOff(id, 'inApp'),
    push: !isOff(id, 'push'),
    email: !isOff(id, 'email'),
  });
  const quiet = quietEdit === undefined ? preferences.quietHours : quietEdit;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setStatus('saving');
    // Categories this form does not list keep what is stored.
    const kept = Object.fromEntries(Object.entries(preferences.categories).filter(([id]) => !categories.some((c) => c.id === id)));
    const listed = Object.fromEntries(categories.filter((c) => !critical.has(c.id)).map((c) => [c.id, channelsOf(c.id)]));
    try {
      await save({ categories: { ...kept, ...listed }, quietHours: quiet });
      setOffEdits({});
      setQuietEdit(undefined);
      setStatus('saved');
    } catch {
      setStatus('failed');
    }
  };

  return (
    <form className="hr-prefs" onSubmit={(event) => void submit(event)} aria-labelledby={`${formId}-title`} data-testid="preferences">
      <h3 id={`${formId}-title`} className="hr-prefs-title">
        {labels.preferences}
      </h3>
      <fieldset className="hr-prefs-group">
        <legend>{channels.length > 1 ? labels.preferences : labels.preferencesInApp}</legend>
        <table className="hr-prefs-table">
          {channels.length > 1 ? (
            <thead>
              <tr>
                <td />
                {channels.map((channel) => (
                  <th key={channel} scope="col">
                    {channelLabel[channel]}
                  </th>
                ))}
              </tr>
            </thead>
          ) : null}
          <tbody>
            {categories.map((category) => (
              <tr key={category.id} data-testid={`preference-${category.id}`}>
                <th scope="row">{category.label}</th>
                {channels.map((channel) => (
                  <td key={channel}>
                    {critical.has(category.id) ? (
                      <span className="hr-prefs-locked">
                        <input type="checkbox" checked disabled aria-label={`${category.label}: ${channelLabel[channel]}`} />
                        {channel === channels[channels.length - 1] ? labels.preferencesAlwaysOn : null}
                      </span>
                    ) : (
                      <input
                        type="checkbox"
                        aria-label={`${category.label}: ${channelLabel[channel]}`}
                        data-testid={`preference-${category.id}-${channel}`}
                        checked={!isOff(category.id, channel)}
                        onChange={(event) => setOffEdits((edits) => ({ ...edits, [`${category.id}.${channel}`]: !event.target.checked }))}
                      />
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </fieldset>
      <fieldset className="hr-prefs-group">
        <legend>{labels.quietHours}</legend>
        <label className="hr-prefs-row">
          <span>{labels.quietHoursHint}</span>
          <input
            type="checkbox"
            checked={quiet !== null}
            data-testid="quiet-hours"
            onChange={(event) => setQuietEdit(event.target.checked ? { start: '22:00', end: '07:00', timeZone: browserTimeZone() } : null)}
          />
        </label>
        {quiet ? (
          <div className="hr-prefs-times">
            <label>
              {labels.quietFrom}{' '}
              <input type="time" required value={quiet.start} onChange={(event) => setQuietEdit({ ...quiet, start: event.target.value })} />
            </label>
            <label>
              {labels.quietTo}{' '}
              <input type="time" required value={quiet.end} onChange={(event) => setQuietEdit({ ...quiet, end: event.target.value })} />
            </label>
            <span className="hr-prefs-zone">{labels.quietTimeZone(quiet.timeZone)}</span>
          </div>
        ) : null}
      </fieldset>
      <div className="hr-prefs-actions">
        <button type="submit" className="hr-action hr-action--primary" disabled={status === 'saving'} data-testid="preferences-save">
          {labels.preferencesSave}
        </button>
        <span role="status" className="hr-prefs-status">
          {status === 'saved' ? labels.preferencesSaved : status === 'failed' ? labels.preferencesFailed : ''}
        </span>
      </div>
    </form>
  );
}
