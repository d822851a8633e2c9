import { Router } from 'express';
import { Types, type Connection } from 'mongoose';
import { z } from 'zod';
import { currentUser, requireUser } from '../auth/require-user';
import type { Authenticator } from '../auth/authenticate';
import { AppError, ValidationError } from '../platform/errors';
import { idParam } from '../http/id-param';
import type { Logger } from '../platform/logger';
import type { PublishNotification } from '../notifications/notification-publisher';
import type { TopicService } from '../topics/topic-service';
import { userModel } from './user-model';
import { postModels, type CommentDoc, type PostDoc } from './post-model';

const textSchema = z.strictObject({ text: z.string().trim().min(1, 'must not be empty').max(1000) });

function postTopic(postId: string): string {
  return `post:${postId}`;
}

function preview(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function toPost(doc: PostDoc, viewerId: string, following: boolean) {
  return {
    id: doc._id.toHexString(),
    author: { id: doc.authorId, name: doc.authorName },
    text: doc.text,
    likeCount: doc.likes.length,
    likedByMe: doc.likes.includes(viewerId),
    followedByMe: following,
    commentCount: doc.commentCount,
    createdAt: doc.createdAt.toISOString(),
  };
}

function toComment(doc: CommentDoc) {
  return {
    id: doc._id.toHexString(),
    postId: doc.postId.toHexString(),
    author: { id: doc.authorId, name: doc.authorName },
    text: doc.text,
    createdAt: doc.createdAt.toISOString(),
  };
}

/**
 * The demo MERN app: posts, comments, likes, follows. It shows why the gateway
 * exists: after a comment or a like the server calls publishNotification for
 * the post's author (never for the user's own action), and a comment also
 * reaches the post's followers through its topic.
 */
export function demoRoutes(deps: {
  connection: Connection;
  authenticate: Authenticator;
  publishNotification: PublishNotification;
  topics: TopicService;
  logger: Logger;
}): Router {
  const router = Router();
  const { Post, Comment } = postModels(deps.connection);
  const Users = userModel(deps.connection);
  const log = deps.logger.child({ module: 'demo' });
  // Only the demo's own paths: this router is mounted on /api beside the others.
  router.use(['/users', '/posts'], requireUser(deps.authenticate));

  async function findPost(id: string): Promise<PostDoc> {
    const post = await Post.findById(new Types.ObjectId(idParam(id))).lean();
    if (!post) throw new AppError('not_found', 'No such post.');
    return post;
  }

  /** Notifying is a side effect of the action: if it fails, the comment or like still stands. */
  async function notify(what: string, run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (error) {
      log.warn({ err: error, what }, 'could not send a notification for a demo action');
    }
  }

  router.get('/users', async (_req, res) => {
    const users = await Users.find({}, { username: 1, name: 1 }).sort({ username: 1 }).lean();
    res.json({ users: users.map((u) => ({ id: u._id.toHexString(), username: u.username, name: u.name })) });
  });

  router.get('/posts', async (_req, res) => {
    const { userId } = currentUser(res);
    const [posts, followed] = await Promise.all([Post.find({}).sort({ createdAt: -1 }).limit(50).lean(), deps.topics.topicsOf(userId)]);
    const following = new Set(followed);
    res.json({ posts: posts.map((p) => toPost(p, userId, following.has(postTopic(p._id.toHexString())))) });
  });

  router.post('/posts', async (req, res) => {
    const parsed = textSchema.safeParse(req.body);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'post');
    const user = currentUser(res);
    const post = await Post.create({ authorId: user.userId, authorName: user.name, text: parsed.data.text });
    const id = post._id.toHexString();
    // Every post has a topic for its followers; its author follows it.
    await deps.topics.ensure({ name: postTopic(id) });
    await deps.topics.addMember(postTopic(id), { id: user.userId, name: user.name });
    res.status(201).json({ post: toPost(post.toObject(), user.userId, true) });
  });

  router.get('/posts/:id/comments', async (req, res) => {
    const post = await findPost(req.params.id);
    const comments = await Comment.find({ postId: post._id }).sort({ createdAt: 1 }).limit(200).lean();
    res.json({ comments: comments.map(toComment) });
  });

  router.post('/posts/:id/comments', async (req, res) => {
    const parsed = textSchema.safeParse(req.body);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'comment');
    const user = currentUser(res);
    const post = await findPost(req.params.id);
    const postId = post._id.toHexString();
    const comment = await Comment.create({ postId: post._id, authorId: user.userId, authorName: user.name, text: parsed.data.text });
    await Post.updateOne({ _id: post._id }, { $inc: { commentCount: 1 } });
    const actor = { id: user.userId, name: user.name };
    const topic = postTopic(postId);

    if (post.authorId !== user.userId) {
      await notify('comment to author', () =>
        deps.publishNotification(
          {
            userIds: [post.authorId],
            type: 'comment.created',
            title: `${user.name} commented on your post`,
            body: preview(parsed.data.text),
            actionUrl: `/posts/${postId}`,
            actor,
            data: { postId },
            category: 'your-posts',
            tags: ['comment'],
            // Also a desktop notification (for a user who enabled them), and an email if still unread after
            // EMAIL_UNREAD_AFTER_SECONDS (15 minutes by default).
            channels: { push: true, email: true },
            // Comments on one post within an hour are one item: "Alice and 2 others commented on your post".
            group: {
              key: `post:${postId}:comments`,
              title: { one: '{actor} and 1 other commented on your post', other: '{actor} and {others} others commented on your post' },
            },
          },
          { idempotencyKey: `comment-${comment._id.toHexString()}-author` },
        ),
      );
    }
    const followers = (await deps.topics.members(topic)).filter((id) => id !== user.userId && id !== post.authorId);
    if (followers.length > 0) {
      await notify('comment to followers', () =>
        deps.publishNotification(
          {
            userIds: followers,
            type: 'comment.followed',
            title: `${user.name} commented on a post you follow`,
            body: preview(parsed.data.text),
            actionUrl: `/posts/${postId}`,
            actor,
            data: { postId },
            category: 'following',
            tags: ['comment'],
          },
          { idempotencyKey: `comment-${comment._id.toHexString()}-followers` },
        ),
      );
    }
    // Live update for anyone looking at the post, except the commenter.
    await notify('comment topic message', () =>
      deps.topics.publishToTopic(
        topic,
        { event: 'comment.created', data: { postId, comment: toComment(comment.toObject()) } },
        { excludeUserId: user.userId },
      ),
    );
    res.status(201).json({ comment: toComment(comment.toObject()) });
  });

  router.post('/posts/:id/like', async (req, res) => {
    const user = currentUser(res);
    const post = await findPost(req.params.id);
    const liked = !post.likes.includes(user.userId);
    await Post.updateOne({ _id: post._id }, liked ? { $addToSet: { likes: user.userId } } : { $pull: { likes: user.userId } });
    if (liked && post.authorId !== user.userId) {
      const postId = post._id.toHexString();
      await notify('like to author', () =>
        deps.publishNotification({
          userIds: [post.authorId],
          type: 'post.liked',
          title: `${user.name} liked your post`,
          body: preview(post.text),
          actionUrl: `/posts/${postId}`,
          actor: { id: user.userId, name: user.name },
          data: { postId },
          category: 'your-posts',
          tags: ['like'],
          // Like, unlike, like again: still one notification for the author.
          dedupeKey: `post.liked:${postId}:${user.userId}`,
        }),
      );
    }
    const updated = await Post.findById(post._id).lean();
    const following = (await deps.topics.topicsOf(user.userId)).includes(postTopic(post._id.toHexString()));
    res.json({ post: toPost(updated!, user.userId, following) });
  });

  for (const follow of [true, false]) {
    router[follow ? 'post' : 'delete']('/posts/:id/follow', async (req, res) => {
      const user = currentUser(res);
      const post = await findPost(req.params.id);
      const topic = postTopic(post._id.toHexString());
      if (follow) await deps.topics.subscribe({ id: user.userId, name: user.name }, topic);
      else await deps.topics.unsubscribe({ id: user.userId, name: user.name }, topic);
      res.json({ post: toPost(post, user.userId, follow) });
    });
  }

  return router;
}
