import express, { Router } from 'express';
import { withDatabaseDeadline } from '../platform/deadline';
import type { Logger } from '../platform/logger';
import type { MuteSettings } from '../preferences/mute-settings';
import { readEffectivePreferences } from '../preferences/effective-preferences';
import type { PreferenceModel } from '../preferences/preference-model';
import { splitFeedKey } from '@herald/shared';
import type { UnsubscribeLinks } from './email-links';
import { escapeHtml } from './email-render';

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:480px;margin:48px auto;padding:0 16px;color:#111827"><h1 style="font-size:20px">${escapeHtml(title)}</h1>${body}</body></html>`;
}

/**
 * `/api/email/unsubscribe?token=…`, the link in every email's List-Unsubscribe header and footer. A `POST`
 * (what a mail client's one-click unsubscribe sends, RFC 8058, and the page's button) turns email off for
 * the categories the token names; no login, the signed token is the proof. A `GET` (a person, or a link
 * scanner following it) only shows the button: following a link never unsubscribes. A forged, altered or
 * expired token is `401 invalid_token` and changes nothing.
 */
export function unsubscribeRoutes(deps: {
  links: UnsubscribeLinks;
  preferences: PreferenceModel;
  mutes: Pick<MuteSettings, 'changed'>;
  /** Categories nobody can turn off: a token naming one (it never does) leaves it on. */
  critical?: readonly string[];
  logger: Logger;
}): Router {
  const router = Router();
  const critical = new Set(deps.critical ?? []);
  // A person gets a page; a mail client or a script asking for JSON gets the API's error body.
  const refuse = (req: express.Request, res: express.Response) => {
    const message = 'Not a valid unsubscribe link, or it has expired. Change your settings in the app instead.';
    if (req.accepts(['html', 'json']) === 'json') return res.status(401).json({ error: { code: 'invalid_token', message } });
    return res
      .status(401)
      .type('html')
      .send(page('This link does not work', `<p>${message}</p>`));
  };

  router.get('/unsubscribe', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const claim = await deps.links.verify(token);
    if (!claim) return refuse(req, res);
    const names = claim.categories.map(escapeHtml).join(', ');
    res.type('html').send(
      page(
        'Stop these emails?',
        `<p>You will no longer get emails about: ${names || 'these notifications'}. You still see them in the app.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
  });

  router.post('/unsubscribe', express.urlencoded({ extended: false, limit: '1kb' }), async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const claim = await deps.links.verify(token);
    if (!claim) return refuse(req, res);
    const categories = claim.categories.filter((category) => !critical.has(category));
    if (categories.length > 0) {
      const { tenant } = splitFeedKey(claim.userId);
      // A tenant's feed: its category settings become its own (the defaults', with these off).
      const current = tenant ? (await readEffectivePreferences(deps.preferences, [claim.userId])).get(claim.userId) : undefined;
      const update = tenant
        ? {
            $set: {
              mutedCategories: current?.mutedCategories ?? [],
              pushOffCategories: current?.pushOffCategories ?? [],
              emailOffCategories: [...new Set([...(current?.emailOffCategories ?? []), ...categories])],
              updatedAt: new Date(),
            },
            $addToSet: { overrides: 'categories' },
            $setOnInsert: { mutedTypes: [] },
          }
        : { $addToSet: { emailOffCategories: { $each: categories } }, $set: { updatedAt: new Date() }, $setOnInsert: { mutedTypes: [] } };
      await withDatabaseDeadline(deps.preferences.updateOne({ _id: claim.userId }, update, { upsert: true }).exec());
      await deps.mutes.changed(claim.userId);
      deps.logger.info({ userId: claim.userId, categories }, 'email turned off from an unsubscribe link');
    }
    res
      .type('html')
      .send(page('Unsubscribed', '<p>You will no longer get these emails. You can turn them back on in the app’s settings.</p>'));
  });
  return router;
}
