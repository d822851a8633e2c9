import nodemailer from 'nodemailer';
import type { EmailConfig } from '../off-page-config';

/** One email as Herald sends it. */
export interface OutgoingEmail {
  to: { address: string; name?: string | undefined };
  subject: string;
  text: string;
  html: string;
  /** The one-click unsubscribe link (RFC 8058): sent as List-Unsubscribe with List-Unsubscribe-Post. */
  unsubscribeUrl: string;
  /** The same for every try of one digest, so a receiving server can tell a resend. */
  messageId: string;
}

/** How long the SMTP server has for each step (connect, greeting, each reply) before the try fails. */
const SMTP_TIMEOUT_MS = 15_000;

/**
 * Sends over SMTP with nodemailer (`smtp://` or `smtps://`, credentials in SMTP_URL), through a small
 * pool of connections. Resolves once the server accepted the message; rejects otherwise (the caller
 * retries), with an error that names no address.
 */
export function createEmailSender(config: Pick<EmailConfig, 'smtpUrl' | 'from'>): {
  send(email: OutgoingEmail): Promise<void>;
  close(): void;
} {
  const transport = nodemailer.createTransport({
    url: config.smtpUrl,
    pool: true,
    maxConnections: 3,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  return {
    async send(email) {
      try {
        await transport.sendMail({
          from: config.from,
          to: email.to.name ? { name: email.to.name, address: email.to.address } : email.to.address,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: email.messageId,
          headers: { 'List-Unsubscribe': `<${email.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        });
      } catch (error) {
        // nodemailer's errors can quote the envelope: only the kind of failure goes on.
        const code = (error as { code?: string; responseCode?: number }).code ?? 'ESEND';
        const responseCode = (error as { responseCode?: number }).responseCode;
        // eslint-disable-next-line preserve-caught-error -- the cause could carry an address into the logs
        throw new Error(`SMTP send failed: ${code}${responseCode ? ` (${responseCode})` : ''}`);
      }
    },
    close: () => transport.close(),
  };
}
