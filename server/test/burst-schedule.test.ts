import { burstSchedule } from '../src/platform/burst-schedule';

describe('burstSchedule', () => {
  it('sends batches on the next turn until the burst rate, then waits the linger, and starts over each second', async () => {
    let clock = 0;
    const schedule = burstSchedule({ lingerMs: 30, burstPerSecond: 3, now: () => clock });
    const flushed: number[] = [];
    const schedules = (n: number, from: number) => Array.from({ length: n }, (_, i) => schedule(() => flushed.push(from + i)));
    schedules(4, 1);
    await new Promise((resolve) => setImmediate(resolve));
    // The first three went out on the next turn; the fourth waits.
    expect(flushed).toEqual([1, 2, 3]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(flushed).toEqual([1, 2, 3, 4]);
    // A second later the count starts over.
    clock = 1000;
    schedules(1, 5);
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toEqual([1, 2, 3, 4, 5]);
  });
});
