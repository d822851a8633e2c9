import { Router, type RequestHandler } from 'express';
import { topicMessageInputSchema } from '@herald/shared';
import { ValidationError } from '../platform/errors';
import { userIdParam } from '../http/id-param';
import type { TopicService } from './topic-service';

/**
 * `/api/topics` for backends that manage membership themselves (the service
 * token): create a topic, add or remove members, list them, send a message.
 */
export function topicRoutes(deps: { topics: TopicService; requireService: RequestHandler }): Router {
  const router = Router();
  router.use(deps.requireService);
  const { topics } = deps;

  router.post('/', async (req, res) => {
    res.status(201).json(await topics.create(req.body));
  });
  router.get('/:name', async (req, res) => {
    res.json(await topics.require(req.params.name));
  });
  router.get('/:name/members', async (req, res) => {
    res.json({ members: await topics.members(req.params.name) });
  });
  router.put('/:name/members/:userId', async (req, res) => {
    const added = await topics.addMember(req.params.name, { id: userIdParam(req.params.userId) });
    res.status(added ? 201 : 200).json({ topic: req.params.name, userId: req.params.userId, member: true });
  });
  router.delete('/:name/members/:userId', async (req, res) => {
    await topics.removeMember(req.params.name, { id: userIdParam(req.params.userId) });
    res.json({ topic: req.params.name, userId: req.params.userId, member: false });
  });
  router.post('/:name/messages', async (req, res) => {
    const parsed = topicMessageInputSchema.safeParse(req.body);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'topic message');
    await topics.require(req.params.name);
    const instancesReached = await topics.publishToTopic(
      req.params.name,
      { event: parsed.data.event, data: parsed.data.data },
      parsed.data.excludeUserId ? { excludeUserId: parsed.data.excludeUserId } : {},
    );
    res.status(202).json({ instancesReached });
  });
  return router;
}
