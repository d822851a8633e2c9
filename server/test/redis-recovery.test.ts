import { EventEmitter } from 'node:events';
import type { Logger } from '../src/platform/logger';
import type { RedisClient } from '../src/platform/redis-client';
import { createRedisRecovery } from '../src/platform/redis-recovery';

describe('the one "Redis is back" routine', () => {
  const logger = { warn: () => undefined, child: () => logger } as unknown as Logger;
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('runs every step at the loss and, once back, in order, each waited for; a loss meanwhile stops that round', async () => {
    const connection = new EventEmitter() as unknown as RedisClient;
    const recovery = createRedisRecovery(connection, logger);
    const log: string[] = [];
    let releaseChannels: () => void = () => undefined;
    recovery.add('channels', {
      lost: () => log.push('channels lost'),
      back: () => new Promise<void>((resolve) => (releaseChannels = () => (log.push('channels back'), resolve()))),
    });
    const removeChecks = recovery.add('checks', { lost: () => log.push('checks lost') });
    recovery.add('resync', { back: () => void log.push('resync') });

    // The first ready (the connection opening) is no return.
    connection.emit('ready');
    await settle();
    expect(log).toEqual([]);

    connection.emit('close');
    connection.emit('close');
    connection.emit('ready');
    await settle();
    // The resync waits for the channels.
    expect(log).toEqual(['channels lost', 'checks lost']);
    releaseChannels();
    await settle();
    expect(log).toEqual(['channels lost', 'checks lost', 'channels back', 'resync']);

    // Lost again while the channels come back: that round stops; the next starts from the first step.
    log.length = 0;
    removeChecks();
    connection.emit('close');
    connection.emit('ready');
    await settle();
    const firstRound = releaseChannels;
    connection.emit('close');
    firstRound();
    await settle();
    // The first round's channels step ends after the loss, and the resync does not run for it.
    expect(log).toEqual(['channels lost', 'channels lost', 'channels back']);
    connection.emit('ready');
    await settle();
    releaseChannels();
    await settle();
    expect(log).toEqual(['channels lost', 'channels lost', 'channels back', 'channels back', 'resync']);
    recovery.stop();
  });
});
