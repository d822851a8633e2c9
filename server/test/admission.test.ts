import { createAdmission } from '../src/platform/admission';

/** A promise and its resolve, to hold work open until the test lets it finish. */
function held<T = void>() {
  let release!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (release = resolve));
  return { promise, release };
}

describe('admission', () => {
  it('runs at most `concurrency` at once and starts the rest first come, first served', async () => {
    const admission = createAdmission(2, 10_000);
    const gates = Array.from({ length: 5 }, () => held());
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const runs = gates.map((gate, i) =>
      admission.run(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await gate.promise;
        running--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    gates[1]!.release();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const gate of gates) gate.release();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  it('frees the slot of work that failed', async () => {
    const admission = createAdmission(1, 10_000);
    await expect(admission.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(admission.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('refuses, without running it, work whose turn came after the longest wait', async () => {
    jest.useFakeTimers({ now: 0, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const admission = createAdmission(1, 100);
      const first = held();
      const running = admission.run(() => first.promise);
      let ran = false;
      const late = admission.run(async () => {
        ran = true;
      });
      jest.setSystemTime(101);
      first.release();
      await running;
      await expect(late).rejects.toMatchObject({ code: 'database_unavailable' });
      expect(ran).toBe(false);
      // The refused turn gave its slot on: the next caller runs at once.
      await expect(admission.run(() => Promise.resolve(1))).resolves.toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
