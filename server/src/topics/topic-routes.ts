import { Router, type Request, type RequestHandler } from 'express';
import { scopeTopic, topicMessageInputSchema, unscopedTopic, type TopicInfo } from '@herald/shared';
import { ValidationError } from '../platform/errors';
import { userIdParam } from '../http/id-param';
import { tenantHeader } from '../http/tenant-header';
import type { TopicService } from './topic-service';

/**
 * `/api/topics` for backends that manage membership themselves (the service
 * token): create a topic, add or remove members, list them, send a message.
 * With `Herald-Tenant`, every route is about that tenant's topic of the name
 * (its members are the users' feeds in the tenant).
 */
export function topicRoutes(deps: { topics: TopicService; requireService: RequestHandler }): Router {
  const router = Router();
  router.use(deps.requireService);
  const { topics } = deps;
  /** The topic a route names, in the request's tenant. */
  const topicOf = (req: Request) => scopeTopic(tenantHeader(req), String(req.params.name));
  /** As the tenant knows it: by its name there. */
  const shown = (info: TopicInfo): TopicInfo => ({ ...info, name: unscopedTopic(info.name) });

  router.post('/', async (req, res) => {
    const tenant = tenantHeader(req);
    const body = (req.body ?? {}) as { name?: unknown };
    const input = tenant && typeof body.name === 'string' ? { ...body, name: scopeTopic(tenant, body.name) } : req.body;
    res.status(201).json(tenant ? shown(await topics.create(input)) : await topics.create(input));
  });
  router.get('/:name', async (req, res) => {
    const info = await topics.require(topicOf(req));
    res.json(tenantHeader(req) ? shown(info) : info);
  });
  router.get('/:name/members', async (req, res) => {
    res.json({ members: await topics.members(topicOf(req)) });
  });
  router.put('/:name/members/:userId', async (req, res) => {
    const added = await topics.addMember(topicOf(req), { id: userIdParam(req.params.userId) });
    res.status(added ? 201 : 200).json({ topic: req.params.name, userId: req.params.userId, member: true });
  });
  router.delete('/:name/members/:userId', async (req, res) => {
    await topics.removeMember(topicOf(req), { id: userIdParam(req.params.userId) });
    res.json({ topic: req.params.name, userId: req.params.userId, member: false });
  });
  router.post('/:name/messages', async (req, res) => {
    const parsed = topicMessageInputSchema.safeParse(req.body);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'topic message');
    await topics.require(topicOf(req));
    const instancesReached = await topics.publishToTopic(
      topicOf(req),
      { event: parsed.data.event, data: parsed.data.data },
      parsed.data.excludeUserId ? { excludeUserId: parsed.data.excludeUserId } : {},
    );
    res.status(202).json({ instancesReached });
  });
  return router;
}
