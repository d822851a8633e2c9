// A MERN app's own backend, with Herald added: its users, its login and its JWTs stay its own; Herald
// is mounted on its Express app and HTTP server, stores in its MongoDB database (collections herald_*),
// and publishes when a comment is created. Plain JavaScript, as many Express backends are.
import { scrypt as scryptCallback, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import express from 'express';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import { AppError, attachHerald } from '@herald/server';

const scrypt = promisify(scryptCallback);
const here = path.dirname(fileURLToPath(import.meta.url));

const config = {
  port: Number(process.env.PORT ?? 4000),
  mongodbUri: process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/host-app',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  jwtSecret: process.env.JWT_SECRET,
  /** Where the built frontend is (npm run build); not served when missing (npm run dev serves it). */
  webDir: path.resolve(here, '../dist'),
};
if (!config.jwtSecret || config.jwtSecret.length < 32) {
  console.error('Set JWT_SECRET (32 characters or more): it signs this app’s sessions.');
  process.exit(1);
}
const ISSUER = 'host-app';
const AUDIENCE = 'host-app-web';

// ---- The host's own data: users with string ids of its own (not ObjectIds), posts and comments.
const User = mongoose.model(
  'User',
  new mongoose.Schema({ _id: String, email: { type: String, unique: true }, name: String, passwordHash: String }),
);
const Post = mongoose.model('Post', new mongoose.Schema({ authorId: String, title: String }, { timestamps: true }));
const Comment = mongoose.model('Comment', new mongoose.Schema({ postId: String, authorId: String, text: String }, { timestamps: true }));

async function hashPassword(password) {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${(await scrypt(password, salt, 32)).toString('hex')}`;
}

async function passwordMatches(password, stored) {
  const [salt, hash] = stored.split(':');
  const given = await scrypt(password, Buffer.from(salt, 'hex'), 32);
  return timingSafeEqual(given, Buffer.from(hash, 'hex'));
}

/** Two users and a post, so the example has something to comment on. */
async function seed() {
  const people = [
    { _id: 'u_alice', email: 'alice@example.com', name: 'Alice', password: 'alice-password' },
    { _id: 'u_bob', email: 'bob@example.com', name: 'Bob', password: 'bob-password' },
    { _id: 'u_carol', email: 'carol@example.com', name: 'Carol', password: 'carol-password' },
  ];
  for (const { password, ...user } of people) {
    if (!(await User.exists({ _id: user._id }))) await User.create({ ...user, passwordHash: await hashPassword(password) });
  }
  if (!(await Post.exists({ authorId: 'u_alice' }))) await Post.create({ authorId: 'u_alice', title: 'Hello from Alice' });
}

/** The host's session check, used by its own routes and handed to Herald as `authenticate`. */
function verifySession(token) {
  const claims = jwt.verify(token, config.jwtSecret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
  return { userId: claims.sub, name: claims.name, expiresAt: claims.exp * 1000 };
}

function requireUser(req, res, next) {
  const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
  try {
    req.user = verifySession(token ?? '');
    next();
  } catch {
    res.status(401).json({ error: { code: 'unauthorized', message: 'Sign in first.' } });
  }
}

// ---- The app.
await mongoose.connect(config.mongodbUri, { serverSelectionTimeoutMS: 5000 });
await seed();
const redis = new Redis(config.redisUrl);

const app = express();
app.use('/api', express.json());
const server = http.createServer(app);

// Herald, in one call: its API at /herald, Socket.IO at /herald/socket.io, this app's sessions.
const herald = await attachHerald({
  server,
  app,
  mongo: mongoose.connection,
  redis,
  collectionPrefix: 'herald_',
  authenticate: async (token) => {
    try {
      return verifySession(token);
    } catch (error) {
      throw new AppError(error.name === 'TokenExpiredError' ? 'token_expired' : 'invalid_token', 'Sign in again.');
    }
  },
});

app.post('/api/login', async (req, res) => {
  const { email, password } = req.body ?? {};
  const user = typeof email === 'string' ? await User.findOne({ email }) : null;
  if (!user || typeof password !== 'string' || !(await passwordMatches(password, user.passwordHash))) {
    res.status(401).json({ error: { code: 'invalid_credentials', message: 'Wrong email or password.' } });
    return;
  }
  const token = jwt.sign({ name: user.name }, config.jwtSecret, {
    subject: user._id,
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: '1h',
  });
  res.json({ token, user: { id: user._id, name: user.name } });
});

app.get('/api/posts', requireUser, async (_req, res) => {
  const posts = await Post.find().sort({ createdAt: -1 }).limit(20).lean();
  res.json({ posts: posts.map((p) => ({ id: String(p._id), authorId: p.authorId, title: p.title })) });
});

// "Comment created": store the comment, then tell the post's author. The idempotency key makes a retried
// request (or a retried publish) notify once.
app.post('/api/posts/:postId/comments', requireUser, async (req, res) => {
  const text = typeof req.body?.text === 'string' ? req.body.text.trim() : '';
  if (!text || text.length > 2000) {
    res.status(400).json({ error: { code: 'validation_failed', message: 'A comment is 1 to 2000 characters.' } });
    return;
  }
  const post = mongoose.isValidObjectId(req.params.postId) ? await Post.findById(req.params.postId) : null;
  if (!post) {
    res.status(404).json({ error: { code: 'not_found', message: 'No such post.' } });
    return;
  }
  const comment = await Comment.create({ postId: String(post._id), authorId: req.user.userId, text });
  if (post.authorId !== req.user.userId) {
    await herald.publishNotification(
      {
        userIds: [post.authorId],
        type: 'comment.created',
        title: `${req.user.name} commented on “${post.title}”`,
        body: text.slice(0, 200),
        actionUrl: `/posts/${post._id}`,
        actor: { id: req.user.userId, name: req.user.name },
      },
      { idempotencyKey: `comment-${comment._id}` },
    );
  }
  res.status(201).json({ comment: { id: String(comment._id), text } });
});

app.get('/healthz', async (_req, res) => {
  try {
    await herald.ready();
    res.json({ ok: true });
  } catch (error) {
    res.status(503).json({ ok: false, reason: error.message });
  }
});

app.use(express.static(config.webDir, { index: 'index.html' }));
app.use((_req, res) => void res.status(404).json({ error: { code: 'not_found', message: 'Not found.' } }));

const host = process.env.HOST ?? '127.0.0.1';
server.listen(config.port, host, () => console.log(`host app on http://${host}:${config.port}`));

async function shutdown() {
  await herald.close();
  server.close();
  redis.disconnect();
  await mongoose.disconnect();
}
process.on('SIGTERM', () => void shutdown().then(() => process.exit(0)));
process.on('SIGINT', () => void shutdown().then(() => process.exit(0)));
