import { z } from 'zod';
import { AppError, PersistenceError } from '../src/platform/errors';
import type { Logger } from '../src/platform/logger';
import { acknowledged } from '../src/realtime/acknowledged';

/** A logger that records what each level was told. */
function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>) => lines.push({ level, fields });
  return { lines, logger: { warn: at('warn'), error: at('error'), info: at('info'), debug: at('debug') } as unknown as Logger };
}

/** Calls the wrapped handler once and resolves with its acknowledgement. */
function call(handler: (this: unknown, payload: unknown, ack: unknown) => void): Promise<unknown> {
  return new Promise((resolve) => handler.call({}, {}, resolve));
}

describe('acknowledged socket requests', () => {
  afterEach(() => jest.useRealTimers());

  it('answers a refusal for an unavailable service with a retryable 503 each time, and logs one line per 10 s with how many', async () => {
    jest.useFakeTimers({ now: 0, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const { lines, logger } = recordingLogger();
    const busy = acknowledged(
      z.object({}),
      () => Promise.reject(new PersistenceError('The database is busy.', new Error('x'))),
      logger,
      'notifications:sync',
    );
    for (let i = 0; i < 5; i++) {
      expect(await call(busy)).toEqual({ error: expect.objectContaining({ code: 'database_unavailable' }) });
    }
    expect(lines).toEqual([{ level: 'warn', fields: expect.objectContaining({ event: 'notifications:sync', refused: 1 }) }]);
    jest.setSystemTime(10_000);
    await call(busy);
    expect(lines).toHaveLength(2);
    // The four refused since the first line, and this one.
    expect(lines[1]!.fields).toMatchObject({ code: 'database_unavailable', refused: 5 });
    expect(JSON.stringify(lines)).not.toContain('at ');
  });

  it('logs every other server failure in full', async () => {
    const { lines, logger } = recordingLogger();
    const broken = acknowledged(z.object({}), () => Promise.reject(new Error('a bug')), logger, 'notifications:read');
    await call(broken);
    await call(broken);
    expect(lines.map((line) => [line.level, (line.fields.err as Error).message])).toEqual([
      ['error', 'a bug'],
      ['error', 'a bug'],
    ]);
    const refused = acknowledged(z.object({}), () => Promise.reject(new AppError('not_found', 'gone')), logger, 'notifications:read');
    await call(refused);
    expect(lines).toHaveLength(2);
  });
});
