import type { Connection } from 'mongoose';
import type { Gateway } from '../gateway';
export { refuseForeignUsers } from './demo-database';
import { demoLoginRoutes } from './demo-login';
import { demoRoutes } from './demo-routes';
import { seedDemoUsers } from './demo-users';
import { postModels } from './post-model';
import { userModel } from './user-model';

/**
 * The demo app (passwordless sign-in as alice, bob or carol; posts, comments,
 * likes and follows that notify through the gateway), plugged in on top of a
 * gateway. The one entry to the demo: only the composition root calls it, and
 * nothing below it imports demo code, so a gateway without it creates no
 * `users`, `posts` or `comments` collection and has no login route.
 */
export async function installDemo(gateway: Gateway, deps: { connection: Connection }): Promise<void> {
  const { Post, Comment } = postModels(deps.connection);
  const Users = userModel(deps.connection);
  await Promise.all([Users.createIndexes(), Post.createIndexes(), Comment.createIndexes()]);
  await seedDemoUsers(deps.connection);
  // Their addresses for email (read in Mailpit in development): alice@example.com, and so on.
  for (const user of await Users.find({}, { username: 1, name: 1 }).lean()) {
    await gateway.recipients.set(String(user._id), { email: `${user.username}@example.com`, name: user.name });
  }
  gateway.apiRoutes.use(demoLoginRoutes({ users: Users, tokens: gateway.tokens }));
  gateway.apiRoutes.use(
    demoRoutes({
      connection: deps.connection,
      authenticate: gateway.authenticate,
      publishNotification: gateway.publishNotification,
      topics: gateway.topics,
      logger: gateway.logger,
    }),
  );
}
