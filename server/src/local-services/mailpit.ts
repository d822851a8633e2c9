import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { goBinDir, onPath } from './ferretdb';
import { freePort, waitForPort } from './free-port';
import { startProcess, waitUntilReady, type ManagedProcess } from './managed-process';

export interface LocalMailpit {
  /** Where the gateway sends: `smtp://127.0.0.1:<port>`. */
  smtpUrl: string;
  /** The inbox in a browser. */
  webUrl: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Where Mailpit is: MAILPIT_BIN, then Go's bin directory (where `npm run setup` installs it), then PATH. */
export function findMailpit(): string | undefined {
  const candidates = [process.env.MAILPIT_BIN, path.join(goBinDir(), 'mailpit'), onPath('mailpit')];
  return candidates.find((candidate): candidate is string => !!candidate && fs.existsSync(candidate));
}

/** The port if nothing listens on it on loopback, else a free one. */
async function preferred(port: number): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  return free ? port : freePort();
}

/**
 * Starts Mailpit on loopback: its SMTP server (1025 when free) takes every email the gateway sends, and
 * its web inbox (8025 when free) shows them. Messages are kept in dataDir; no update check, no outbound
 * connection.
 */
export async function startMailpit(options: { dataDir: string; startTimeoutMs?: number }): Promise<LocalMailpit> {
  const bin = findMailpit();
  if (!bin) throw new Error('mailpit is not installed: run `npm run setup` (or set SMTP_URL to use another SMTP server)');
  fs.mkdirSync(options.dataDir, { recursive: true });
  const [smtpPort, webPort] = [await preferred(1025), await preferred(8025)];
  const proc = startProcess(bin, [
    '--smtp',
    `127.0.0.1:${smtpPort}`,
    '--listen',
    `127.0.0.1:${webPort}`,
    '--database',
    path.join(path.resolve(options.dataDir), 'mailpit.db'),
    '--disable-version-check',
    '--smtp-auth-accept-any',
    '--smtp-auth-allow-insecure',
  ]);
  await waitUntilReady(proc, 'mailpit', waitForPort(smtpPort, options.startTimeoutMs ?? 10_000));
  return { smtpUrl: `smtp://127.0.0.1:${smtpPort}`, webUrl: `http://localhost:${webPort}`, process: proc, stop: () => proc.stop() };
}
