const WIDTH = 28;

/**
 * A progress bar on stderr. On a terminal it redraws in place; in a log
 * (CI, a pipe) it prints a line at most every 2 seconds and at the end.
 */
export function progress(label: string, total: number): { update(done: number, note?: string): void; done(note?: string): void } {
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let lastPrinted = 0;
  let finished = false;
  const render = (done: number, note: string) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * WIDTH);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    return `  ${label.padEnd(34)} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.floor(done)).padStart(String(total).length)}/${total} ${seconds}s ${note}`;
  };
  return {
    update(done, note = '') {
      if (finished) return;
      const nowMs = performance.now();
      if (tty) {
        if (nowMs - lastPrinted < 100) return;
        lastPrinted = nowMs;
        process.stderr.write(`\r${render(done, note)}\x1b[K`);
      } else if (nowMs - lastPrinted >= 2000) {
        lastPrinted = nowMs;
        process.stderr.write(`${render(done, note)}\n`);
      }
    },
    done(note = '') {
      if (finished) return;
      finished = true;
      process.stderr.write(`${tty ? '\r' : ''}${render(total, note)}${tty ? '\x1b[K' : ''}\n`);
    },
  };
}

/** Waits for a condition with a visible bar, polling `check` (which reports how far along it is). */
export async function waitWithProgress(
  label: string,
  total: number,
  check: () => Promise<number> | number,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<{ done: number; ms: number; timedOut: boolean }> {
  const bar = progress(label, total);
  const started = performance.now();
  for (;;) {
    const done = await check();
    const ms = performance.now() - started;
    if (done >= total) {
      bar.done();
      return { done, ms, timedOut: false };
    }
    if (ms > options.timeoutMs) {
      bar.done(`stopped after ${(options.timeoutMs / 1000).toFixed(0)} s`);
      return { done, ms, timedOut: true };
    }
    bar.update(done);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
