import { z } from 'zod';
import { userIdSchema } from './ids.js';
import { jsonDataSchema, type JsonObject } from './json-data.js';

/** `kind:id`, e.g. `post:64f…` or `order:1001`. */
export const topicNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}:[A-Za-z0-9_.-]{1,64}$/, 'must look like "kind:id", e.g. "post:42"');

export const topicRequestSchema = z.strictObject({ topic: topicNameSchema });

export const createTopicSchema = z.strictObject({
  name: topicNameSchema,
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
  topic: topicNameSchema,
  event: z.string(),
  data: jsonDataSchema,
  sentAt: z.string(),
  excludeUserId: z.string().optional(),
  excludeSocketId: z.string().optional(),
});

export type TopicChannelMessage = z.infer<typeof topicChannelMessageSchema>;
