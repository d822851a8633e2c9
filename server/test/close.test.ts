import pino from 'pino';
import { connect } from './support/sockets';
import { startTestHerald } from './support/herald';
import { useTestStack } from './support/stack';
import { waitFor } from './support/wait';

describe('close() with sockets connected', () => {
  const stack = useTestStack({ users: ['alice', 'bob', 'carol'] });

  it('closes with sockets connected and one leaving: no warning logged, no subscription left', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const herald = await startTestHerald({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url, options: { logger } });
    const sockets = [];
    for (const user of Object.values(stack.users)) sockets.push(await connect(herald.url, user.token));
    await waitFor(() => expect(herald.gateway.userChannels.channelCount).toBe(3));
    const channels = Object.values(stack.users).map((user) => stack.names.userChannel(user.user.id));
    await waitFor(async () =>
      expect(await stack.redisClient.call('PUBSUB', 'NUMSUB', ...channels)).toEqual(channels.flatMap((c) => [c, 1])),
    );

    // Some clients leave as the gateway closes (the bench's teardown does this).
    sockets[0]!.close();
    await herald.close();
    expect(await stack.redisClient.call('PUBSUB', 'NUMSUB', ...channels)).toEqual(channels.flatMap((c) => [c, 0]));
    expect(lines.filter((line) => line.level >= 40).map((line) => line.msg)).toEqual([]);
  });
});
