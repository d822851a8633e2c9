import { z } from 'zod';
import { feedKey, userIdSchema } from './ids.js';
import { jsonDataSchema, type JsonObject } from './json-data.js';

/** `kind:id`, e.g. `post:64f…` or `order:1001`. */
export const topicNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}:[A-Za-z0-9_.-]{1,64}$/, 'must look like "kind:id", e.g. "post:42"');

export const topicRequestSchema = z.strictObject({ topic: topicNameSchema });

/**
 * A topic as the server keys it: `kind:id`, or `<tenant>/kind:id` for a tenant's topic (the same
 * `<tenant>/` prefix as a tenant's feeds, see feedKey). Backends in Node may name a tenant's topic so;
 * over HTTP the `Herald-Tenant` header adds the prefix, and sockets add their own tenant's.
 */
export const scopedTopicNameSchema = z
  .string()
  .regex(
    /^(?:[A-Za-z0-9_\-.:|@+]{1,128}\/)?[a-z][a-z0-9-]{0,31}:[A-Za-z0-9_.-]{1,64}$/,
    'must look like "kind:id" (e.g. "post:42"), or "<tenant>/kind:id" for a tenant\'s topic',
  );

/** A tenant's topic key (no tenant: the name itself). */
export const scopeTopic = (tenant: string | undefined, name: string): string => feedKey(tenant, name);

/** The tenant of a topic key, if any. */
export function topicTenant(topic: string): string | undefined {
  const slash = topic.indexOf('/');
  return slash < 0 ? undefined : topic.slice(0, slash);
}

/** A topic key without its tenant: the name clients and backends of that tenant use. */
export function unscopedTopic(topic: string): string {
  return topic.slice(topic.indexOf('/') + 1);
}

export const createTopicSchema = z.strictObject({
  name: scopedTopicNameSchema,
  /** public: any signed-in user may subscribe; private: only members added by a backend. @default "public" */
  visibility: z.enum(['public', 'private']).default('public'),
  /** Send `joined`/`left` system events to the topic's subscribers. @default false */
  systemEvents: z.boolean().default(false),
});

export const topicMessageInputSchema = z.strictObject({
  event: z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/, 'must be 1-64 characters: lowercase letters, digits, "_", ".", ":" or "-"'),
  data: jsonDataSchema.default({}),
  /** Leave this user's sockets out (the user who caused the event). */
  excludeUserId: userIdSchema.optional(),
});

export interface TopicInfo {
  name: string;
  visibility: 'public' | 'private';
  systemEvents: boolean;
}

/** A message to a topic's subscribers. System events are `joined` and `left` with `data.user = { id, name }`. */
export interface TopicMessage {
  topic: string;
  event: string;
  data: JsonObject;
  sentAt: string;
}

export const topicChannelMessageSchema = z.object({
  topic: scopedTopicNameSchema,
  event: z.string(),
  data: jsonDataSchema,
  sentAt: z.string(),
  excludeUserId: z.string().optional(),
  excludeSocketId: z.string().optional(),
});

export type TopicChannelMessage = z.infer<typeof topicChannelMessageSchema>;
