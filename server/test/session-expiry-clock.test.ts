import { createSessionExpiry } from '../src/realtime/session-expiry';

class FakeSocket {
  constructor(readonly name: string) {}
}

describe('session expiry clock (one timer per instance)', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00.000Z') }));
  afterEach(() => jest.useRealTimers());

  it('ends each session within a second after its expiry, not before, and forgets sockets that left', () => {
    const ended: string[] = [];
    const clock = createSessionExpiry<FakeSocket>((socket) => ended.push(socket.name));
    const t0 = Date.now();
    const a = new FakeSocket('a');
    const b = new FakeSocket('b');
    const c = new FakeSocket('c');
    clock.add(a, t0 + 2000);
    const second = clock.add(b, t0 + 2000);
    clock.add(c, t0 + 5000);
    clock.remove(b, second);

    jest.advanceTimersByTime(1000);
    expect(ended).toEqual([]);
    jest.advanceTimersByTime(1000);
    expect(ended).toEqual(['a']);
    jest.advanceTimersByTime(2000);
    expect(ended).toEqual(['a']);
    jest.advanceTimersByTime(1000);
    expect(ended).toEqual(['a', 'c']);
    clock.stop();
  });

  it('a token already expired when added ends at the next tick', () => {
    const ended: string[] = [];
    const clock = createSessionExpiry<FakeSocket>((socket) => ended.push(socket.name));
    clock.add(new FakeSocket('late'), Date.now() - 60_000);
    jest.advanceTimersByTime(1000);
    expect(ended).toEqual(['late']);
    clock.stop();
  });
});
