import { z } from 'zod';
import { actionIdSchema, jsonDataSchema, notificationTypeSchema, objectIdSchema, tenantIdSchema, userIdSchema } from '@herald/shared';

/** Known events and the shape of their data; any other `a.b` event carries a free JSON object. */
export const eventSchemas = {
  /** Emitted by Herald when a user clicks an action button of a notification (once per notification). */
  'notification.action': z.strictObject({
    notificationId: objectIdSchema,
    userId: userIdSchema,
    /** The tenant whose feed holds it; absent in the default feed. */
    tenant: tenantIdSchema.optional(),
    actionId: actionIdSchema,
    type: notificationTypeSchema,
    category: z.string().optional(),
    data: jsonDataSchema.optional(),
    interactedAt: z.string(),
  }),
  'user.created': z.strictObject({ userId: userIdSchema, name: z.string().min(1).max(100) }),
  'order.placed': z.strictObject({
    orderId: z.string().min(1).max(64),
    userId: userIdSchema,
    total: z.number().nonnegative(),
    currency: z.string().length(3).default('EUR'),
  }),
  'payment.completed': z.strictObject({
    orderId: z.string().min(1).max(64),
    userId: userIdSchema,
    amount: z.number().nonnegative(),
    currency: z.string().length(3).default('EUR'),
  }),
} as const;

export type KnownEvent = keyof typeof eventSchemas;
export type EventData<E extends string> = E extends KnownEvent ? z.input<(typeof eventSchemas)[E]> : Record<string, unknown>;

export const eventNameSchema = z.string().regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/, 'must look like "order.placed"');

/** Parses an event's data: known events by their schema, others as a small JSON object. */
export function parseEventData(event: string, data: unknown) {
  const schema = (eventSchemas as Record<string, z.ZodType>)[event];
  return (schema ?? jsonDataSchema).safeParse(data);
}

export const eventEnvelopeSchema = z.object({
  id: z.string(),
  event: eventNameSchema,
  data: z.record(z.string(), z.unknown()),
  emittedAt: z.string(),
  source: z.string().optional(),
});

export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;
