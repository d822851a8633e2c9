/**
 * Ends sessions whose token has expired. One timer for the whole instance,
 * with sockets grouped by the second their token expires in (a token's `exp`
 * is whole seconds): a timer per socket, each with its own duration, costs
 * Node a timer list per socket. A session ends within a second of its expiry.
 */
export function createSessionExpiry<S>(onExpired: (socket: S) => void) {
  const bySecond = new Map<number, Set<S>>();
  let checkedUpTo = Math.floor(Date.now() / 1000);

  const tick = () => {
    const now = Math.floor(Date.now() / 1000);
    for (let second = checkedUpTo + 1; second <= now; second++) {
      const due = bySecond.get(second);
      if (!due) continue;
      bySecond.delete(second);
      for (const socket of due) onExpired(socket);
    }
    checkedUpTo = Math.max(checkedUpTo, now);
  };
  const timer = setInterval(tick, 1000);
  timer.unref();

  return {
    /** Ends this socket's session when `expiresAt` (ms) has passed; returns the second to pass to remove(). */
    add(socket: S, expiresAt: number): number {
      // Due already (or in the second being checked): the next tick would miss it.
      const second = Math.max(Math.ceil(expiresAt / 1000), checkedUpTo + 1);
      let due = bySecond.get(second);
      if (!due) bySecond.set(second, (due = new Set()));
      due.add(socket);
      return second;
    },
    /** The socket left before its session expired. */
    remove(socket: S, second: number): void {
      const due = bySecond.get(second);
      if (!due?.delete(socket)) return;
      if (due.size === 0) bySecond.delete(second);
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}
