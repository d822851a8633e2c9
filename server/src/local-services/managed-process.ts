import { spawn, type ChildProcess } from 'node:child_process';

/** A child process we started and must stop: keeps its last output lines for error messages. */
export interface ManagedProcess {
  readonly child: ChildProcess;
  /** The last lines the process printed, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Sends a signal without waiting (fault tests use SIGKILL). */
  kill(signal: NodeJS.Signals): void;
  readonly exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Stray-process guard: whatever exits this process also stops the services it started. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export function startProcess(command: string, args: string[], options: { cwd?: string } = {}): ManagedProcess {
  installExitHook();
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    });
    child.once('error', (error) => {
      lines.push(String(error));
      running.delete(child);
      resolve(null);
    });
  });
  return {
    child,
    exited,
    output: () => lines.join('\n'),
    kill: (signal) => {
      child.kill(signal);
    },
    stop: async (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits for the process's port to accept connections; if it exits first, stops it and throws with its output. */
export async function waitUntilReady(proc: ManagedProcess, name: string, ready: Promise<void>): Promise<void> {
  const died = proc.exited.then((code) => {
    throw new Error(`${name} exited (code ${code}) before it was ready:\n${proc.output()}`);
  });
  died.catch(() => undefined);
  try {
    await Promise.race([ready, died]);
  } catch (error) {
    await proc.stop(500);
    throw error;
  }
}
