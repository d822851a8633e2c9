import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/local-services/free-port';

/** One message as the SMTP server received it: the envelope, and the message parsed. */
export interface ReceivedEmail {
  to: string[];
  mail: ParsedMail;
  /** A header line as sent, unfolded (`List-Unsubscribe: <https://…>`). */
  header(name: string): string | undefined;
}

/**
 * A real SMTP server on loopback (the `smtp-server` package: the protocol as any mail server speaks it),
 * keeping every message it accepted, parsed with `mailparser`. `stop()` and `start()` take it down and
 * bring it back on the same port, as an outage would.
 */
export async function startSmtpServer(port?: number) {
  const received: ReceivedEmail[] = [];
  const listenOn = port ?? (await freePort());
  let server: SMTPServer | undefined;
  const start = async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      // An outage drops open connections at once (a client's pooled ones too).
      closeTimeout: 100,
      logger: false,
      onData(stream, session, callback) {
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        simpleParser(stream).then(
          (mail) => {
            // Long headers arrive folded (RFC 5322): unfolded here.
            const header = (name: string) =>
              mail.headerLines.find((line) => line.key === name.toLowerCase())?.line.replace(/[ \t]*\r?\n[ \t]+/g, ' ');
            received.push({ to, mail, header });
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(listenOn, '127.0.0.1', () => resolve());
    });
  };
  await start();
  return {
    url: `smtp://127.0.0.1:${listenOn}`,
    received,
    /** Takes the server down (connections refused) until start(). */
    stop: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
    start,
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}

export type SmtpServer = Awaited<ReturnType<typeof startSmtpServer>>;
