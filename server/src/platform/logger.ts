import pino, { type Logger } from 'pino';

export type { Logger };

/** The one root logger; modules take `logger.child({ module })` so lines say where they came from. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'req.headers.authorization'], remove: true },
  });
}
