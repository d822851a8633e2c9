import pino from 'pino';
import type { TopicChannelSubscriber } from '../src/channels/topic-channel-subscriber';
import type { UserChannelSubscriber } from '../src/channels/user-channel-subscriber';
import type { IoSocket } from '../src/realtime/io-types';
import { createSocketSessions } from '../src/realtime/socket-session';

/** Sessions over small fakes: the topics restore fails when the test says, after the socket left or not. */
function sessionsWithFailingRestore() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  let fail!: (error: Error) => void;
  const restore = new Promise<never>((_, reject) => (fail = reject));
  const sessions = createSocketSessions({
    userChannels: { acquire: async () => undefined, release: () => undefined } as unknown as UserChannelSubscriber,
    topicChannels: { acquire: async () => undefined, release: () => undefined } as unknown as TopicChannelSubscriber,
    topicsOnConnect: () => restore,
    logger,
  });
  const socket = {
    data: { userId: 'u1', expiresAt: null },
    disconnected: false,
    join: () => undefined,
    leave: () => undefined,
  } as unknown as IoSocket & { disconnected: boolean };
  return { sessions, socket, lines, fail };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('socket sessions: restoring a new socket’s topics', () => {
  it('warns when the topics could not be restored for a socket still connected', async () => {
    const { sessions, socket, lines, fail } = sessionsWithFailingRestore();
    try {
      sessions.open(socket);
      fail(new Error('database unavailable'));
      await settle();
      expect(lines.filter((line) => line.level >= 40).map((line) => line.msg)).toEqual(['could not restore topic subscriptions']);
    } finally {
      sessions.stop();
    }
  });

  it('does not warn when the socket left before the restore failed (the gateway closing, say)', async () => {
    const { sessions, socket, lines, fail } = sessionsWithFailingRestore();
    try {
      sessions.open(socket);
      socket.disconnected = true;
      sessions.close.call(socket);
      fail(new Error('client was closed'));
      await settle();
      expect(lines.filter((line) => line.level >= 40)).toEqual([]);
      expect(lines.map((line) => line.msg)).toContain('topic subscriptions not restored; the socket is gone');
    } finally {
      sessions.stop();
    }
  });
});
