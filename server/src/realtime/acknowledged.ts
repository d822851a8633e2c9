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
export function acknowledged<In, Out, S = unknown>(
  schema: ZodType<In>,
  handler: (payload: In, socket: S) => Promise<Out>,
  logger: Logger,
  event: string,
): (this: S, payload: unknown, ack: unknown) => void {
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
        if (status >= 500) logger.error({ err: error, event, code: body.code }, 'socket request failed');
        reply({ error: body satisfies ErrorBody });
      },
    );
  };
}
