import pino from 'pino';

/** One log method: pino's calling convention, an object of fields first, then the message. */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/**
 * What Herald logs through: pino, or any logger with pino's level methods. Modules take
 * `logger.child({ module })` so lines say where they came from.
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * A host application's logger: `info`, `warn` and `error` taking `(fields, message)` like pino's;
 * `trace`, `debug`, `fatal` and `child` are used when present.
 *
 * @example
 * const logger: HostLogger = pino(); // or console-like: { info, warn, error } with (fields, message)
 */
export interface HostLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  trace?: LogFn;
  debug?: LogFn;
  fatal?: LogFn;
  child?(bindings: Record<string, unknown>): HostLogger;
}

/** The one root logger Herald builds when the host gives none. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'req.headers.authorization'], remove: true },
  });
}

const noop: LogFn = () => undefined;

/**
 * Logs through the host's logger: its own `child` when it has one, otherwise the bindings are added to
 * every line's fields. Missing `trace`/`debug` are dropped; a missing `fatal` logs as `error`.
 *
 * @example
 * const logger = toLogger(app.locals.logger);
 */
export function toLogger(host: HostLogger, bindings: Record<string, unknown> = {}): Logger {
  const bound = Object.keys(bindings).length > 0;
  const level = (method: LogFn | undefined): LogFn => {
    if (!method) return noop;
    const call = method.bind(host) as (fields: object, message?: string) => void;
    return ((fields: object | string, message?: string) => {
      if (typeof fields === 'string') return bound ? call({ ...bindings }, fields) : call({}, fields);
      call(bound ? { ...bindings, ...fields } : fields, message);
    }) as LogFn;
  };
  return {
    trace: level(host.trace),
    debug: level(host.debug),
    info: level(host.info),
    warn: level(host.warn),
    error: level(host.error),
    fatal: level(host.fatal ?? host.error),
    child: (more) => (host.child ? toLogger(host.child(more)) : toLogger(host, { ...bindings, ...more })),
  };
}
