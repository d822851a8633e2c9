import type { Ack, ErrorBody } from '@herald/shared';
import type { ZodType } from 'zod';
import { ValidationError, toErrorBody } from '../platform/errors';
import type { Logger } from '../platform/logger';

/**
 * Wraps a client->server event that expects an acknowledgement: validates the
 * payload with its schema, answers `{ data }` or `{ error }`, and never lets a
 * throw escape into Socket.IO. Calls without an ack function are ignored.
 * Socket.IO calls a listener with the socket as `this`, so one wrapped handler
 * serves every socket; the handler gets that socket as its second argument.
 */
/** At most one line per this long for requests refused because a service is unavailable (see acknowledged). */
const UNAVAILABLE_LOG_MS = 10_000;

export function acknowledged<In, Out, S = unknown>(
  schema: ZodType<In>,
  handler: (payload: In, socket: S) => Promise<Out>,
  logger: Logger,
  event: string,
): (this: S, payload: unknown, ack: unknown) => void {
  // A reconnect storm against a busy database refuses syncs by the thousand, each answered with a
  // retryable 503 the client backs off from: one warning per interval with how many, not one error
  // with a stack trace each. Anything else that fails on the server is logged in full.
  let unavailable = { since: Number.NEGATIVE_INFINITY, count: 0 };
  const noteUnavailable = (error: unknown, code: string) => {
    unavailable.count++;
    const now = Date.now();
    if (now - unavailable.since < UNAVAILABLE_LOG_MS) return;
    const message = error instanceof Error ? error.message : String(error);
    logger.warn(
      { event, code, refused: unavailable.count, reason: message },
      'socket requests refused: a service is unavailable; clients retry',
    );
    unavailable = { since: now, count: 0 };
  };
  return function (this: S, payload, ack) {
    if (typeof ack !== 'function') return;
    const reply = ack as (response: Ack<Out>) => void;
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      reply({ error: ValidationError.fromZod(parsed.error, `${event} payload`).toBody() });
      return;
    }
    handler(parsed.data, this).then(
      (data) => reply({ data }),
      (error: unknown) => {
        const { status, body } = toErrorBody(error);
        if (status === 503) noteUnavailable(error, body.code);
        else if (status >= 500) logger.error({ err: error, event, code: body.code }, 'socket request failed');
        reply({ error: body satisfies ErrorBody });
      },
    );
  };
}
