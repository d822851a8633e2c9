import { z } from 'zod';
import { isTimeZone } from './quiet-hours.js';

/** Languages Herald writes emails in (the client's too); a locale outside them gets English. */
export const EMAIL_LANGUAGES = ['en', 'fr'] as const;
export type EmailLanguage = (typeof EMAIL_LANGUAGES)[number];

/** The language of a BCP 47 locale (`fr-CA` → `fr`), or English. */
export function emailLanguage(locale: string | undefined): EmailLanguage {
  const language = locale?.split('-')[0]?.toLowerCase();
  return (EMAIL_LANGUAGES as readonly string[]).includes(language ?? '') ? (language as EmailLanguage) : 'en';
}

/** An address as RFC 5321 bounds it (254 characters at most), one `@`, no spaces or angle brackets. */
const EMAIL = /^[^\s@<>()",;]{1,64}@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;

/**
 * What a backend tells Herald about a user, so it can reach them off the page: the address emails go
 * to, the name they are greeted with, the locale and time zone emails are written in. Each field is
 * optional; in a `PUT`, a field given as `null` is removed and one left out is kept.
 */
export const recipientInputSchema = z
  .object({
    email: z.string().max(254, 'must be at most 254 characters').regex(EMAIL, 'must be an email address').nullable().optional(),
    name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').nullable().optional(),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag like en, fr or fr-CA')
      .max(35)
      .nullable()
      .optional(),
    timeZone: z
      .string()
      .max(64)
      .refine((zone) => isTimeZone(zone), 'must be an IANA time zone like Europe/Paris')
      .nullable()
      .optional(),
  })
  .strict();

export type RecipientInput = z.input<typeof recipientInputSchema>;

/** A recipient as Herald keeps it. */
export interface Recipient {
  userId: string;
  email?: string;
  name?: string;
  locale?: string;
  timeZone?: string;
  updatedAt: string;
}
