import { createHash } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

/** How long an unsubscribe link in an email works (mail is read late; a link older than this is refused). */
export const UNSUBSCRIBE_LINK_DAYS = 60;

/** What an unsubscribe link carries: whose email, and the categories it turns off. */
export interface UnsubscribeClaim {
  userId: string;
  categories: string[];
}

/**
 * Signs and checks the one-click unsubscribe links of emails (RFC 8058): an HS256 token with the user,
 * the categories and an expiry, keyed by EMAIL_LINK_SECRET (its own key, so a link can never pass as a
 * sign-in token). The link works without a login; a forged, altered or expired token is refused.
 */
export function createUnsubscribeLinks(secret: string) {
  // The key is a hash of the secret with this use's name: the same secret could serve another purpose without the two tokens being interchangeable.
  const key = createHash('sha256').update(`herald unsubscribe\n${secret}`).digest();
  return {
    async sign(claim: UnsubscribeClaim, now = new Date()): Promise<string> {
      return new SignJWT({ cat: claim.categories })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(claim.userId)
        .setAudience('herald:unsubscribe')
        .setIssuedAt(Math.floor(now.getTime() / 1000))
        .setExpirationTime(Math.floor(now.getTime() / 1000) + UNSUBSCRIBE_LINK_DAYS * 86_400)
        .sign(key);
    },
    /** The claim, or null for a token that is forged, altered, expired or not an unsubscribe link. */
    async verify(token: string): Promise<UnsubscribeClaim | null> {
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], audience: 'herald:unsubscribe' });
        const categories = payload.cat;
        if (typeof payload.sub !== 'string' || !Array.isArray(categories) || !categories.every((c) => typeof c === 'string')) return null;
        return { userId: payload.sub, categories: categories as string[] };
      } catch {
        return null;
      }
    },
  };
}

export type UnsubscribeLinks = ReturnType<typeof createUnsubscribeLinks>;
