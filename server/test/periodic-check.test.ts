import type { Logger } from '../src/platform/logger';
import { everyInterval } from '../src/realtime/periodic-check';

describe('everyInterval', () => {
  afterEach(() => jest.useRealTimers());

  function recordingLogger() {
    const warnings: string[] = [];
    return { warnings, log: { warn: (_: unknown, message: string) => warnings.push(message) } as unknown as Logger };
  }

  it('logs a failed run, but not one that fails after it was stopped (its clients closing under it)', async () => {
    jest.useFakeTimers();
    const { warnings, log } = recordingLogger();
    let fail: (error: Error) => void = () => undefined;
    const stop = everyInterval(1000, () => new Promise<void>((_, reject) => (fail = reject)), log, 'check skipped');
    jest.advanceTimersByTime(1000);
    fail(new Error('redis down'));
    await Promise.resolve();
    await Promise.resolve();
    expect(warnings).toEqual(['check skipped']);

    jest.advanceTimersByTime(11_000);
    stop();
    fail(new Error('client was closed'));
    await Promise.resolve();
    await Promise.resolve();
    expect(warnings).toEqual(['check skipped']);
  });
});
