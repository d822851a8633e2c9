import { z } from 'zod';
import { notificationSchema } from './notification.js';

/** Messages on a user's Redis channel. A tagged union so later kinds can be added without ambiguity. */
const countsSchema = z.object({
  unread: z.number().int().min(0),
  unseen: z.number().int().min(0),
  atSeq: z.number().int().min(0),
});

/**
 * `originSocketId` names the socket whose request caused an update, so that
 * socket (which already has the answer in its ack) is not echoed to.
 */
export const userChannelMessageSchema = z.discriminatedUnion('kind', [
  /** `publishedAt`: when publishNotification was called (ms since epoch), for the delivery latency metric. */
  z.object({ kind: z.literal('notification'), notification: notificationSchema, publishedAt: z.number().optional() }),
  z.object({
    kind: z.literal('updated'),
    notifications: z.array(notificationSchema),
    counts: countsSchema,
    originSocketId: z.string().optional(),
  }),
  z.object({ kind: z.literal('deleted'), ids: z.array(z.string()), counts: countsSchema, originSocketId: z.string().optional() }),
  z.object({ kind: z.literal('counts'), counts: countsSchema, originSocketId: z.string().optional() }),
  /** The user joined or left a topic (from any device or a backend): their sockets join or leave its room. */
  z.object({ kind: z.literal('topic-membership'), topic: z.string(), member: z.boolean() }),
]);

export type UserChannelMessage = z.infer<typeof userChannelMessageSchema>;
