import type { Logger } from './logger';
import type { RedisClient } from './redis-client';

/** One concern's reaction to a Redis connection dropping and coming back. */
export interface RecoveryStep {
  /** At the drop, at once: forget what may no longer hold (checks made, settings kept). */
  lost?: () => void;
  /** Once the connection is ready again: redo what the drop undid. Awaited before the next step's. */
  back?: () => void | Promise<void>;
}

/**
 * The one ordered answer to "Redis is back" in a process. Everything that must react to Redis going
 * away and returning registers a step here instead of listening to the connection itself. When the
 * watched connection (the subscriber: it is the one that misses messages) closes, or a cluster's
 * nodes change, every step's `lost` runs, in order; when it is ready again, every step's `back` runs,
 * in order, each awaited, so what depends on an earlier step finds it done (the channels are
 * subscribed again before clients are told to sync). A drop during the `back` round stops that round:
 * the next one starts from the first step.
 *
 * The steps, as Herald registers them: the channel subscriptions (user and topic channels), the mute
 * settings (dropped at the loss, subscribed again), the counter checks (forgotten at the loss), the
 * resync of the sockets that missed something.
 */
export interface RedisRecovery {
  /** Adds a step after those added before; returns what takes it out again. */
  add(name: string, step: RecoveryStep): () => void;
  /** Stops listening to the connection. */
  stop(): void;
}

export function createRedisRecovery(connection: RedisClient, logger: Logger): RedisRecovery {
  const log = logger.child({ module: 'redis-recovery' });
  const steps: { name: string; step: RecoveryStep }[] = [];
  /** Moves on each loss: a `back` round still running for an earlier return stops. */
  let round = 0;
  let down = false;

  const lost = () => {
    round++;
    if (down) return;
    down = true;
    for (const { name, step } of steps) {
      try {
        step.lost?.();
      } catch (error) {
        log.warn({ err: error, step: name }, 'a step at the loss of redis failed');
      }
    }
  };

  const back = () => {
    if (!down) return;
    down = false;
    const current = ++round;
    void (async () => {
      for (const { name, step } of steps) {
        if (current !== round) return;
        try {
          await step.back?.();
        } catch (error) {
          log.warn({ err: error, step: name }, 'a step after redis came back failed');
        }
      }
    })();
  };

  // A cluster's topology change can move slots to a node that lost writes: a loss and a return.
  const moved = () => {
    lost();
    back();
  };

  connection.on('close', lost);
  connection.on('ready', back);
  connection.on('+node', moved);
  connection.on('-node', moved);
  return {
    add(name, step) {
      const entry = { name, step };
      steps.push(entry);
      return () => {
        const at = steps.indexOf(entry);
        if (at >= 0) steps.splice(at, 1);
      };
    },
    stop() {
      round++;
      connection.off('close', lost);
      connection.off('ready', back);
      connection.off('+node', moved);
      connection.off('-node', moved);
    },
  };
}
