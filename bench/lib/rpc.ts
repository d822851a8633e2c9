import { fork, type ChildProcess } from 'node:child_process';

/** What a worker serves: every method takes one argument and may be async. */
export type Api = { [K: string]: (params: never) => unknown };

interface Request {
  id: number;
  method: string;
  params: unknown;
}
type Reply = { id: number; result: unknown } | { id: number; error: string };
type Notice = { ready: true } | { event: string; data: unknown };

export interface Worker<A extends Api> {
  readonly pid: number;
  readonly child: ChildProcess;
  call<K extends keyof A & string>(method: K, params: Parameters<A[K]>[0]): Promise<Awaited<ReturnType<A[K]>>>;
  /** Events the worker sends on its own (progress counters). */
  on(event: string, listener: (data: unknown) => void): void;
  stop(): Promise<void>;
}

/**
 * Starts a TypeScript worker process (through tsx) and talks to it over the
 * IPC channel with structured clone, so typed arrays of latencies cross cheaply.
 */
export function startWorker<A extends Api>(
  script: string,
  options: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {},
): Promise<Worker<A>> {
  const child = fork(script, [], {
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  const listeners = new Map<string, ((data: unknown) => void)[]>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return new Promise((resolve, reject) => {
    const onEarlyExit = (code: number | null) => reject(new Error(`worker ${script} exited (code ${code}) before it was ready`));
    child.once('exit', onEarlyExit);
    child.on('exit', (code) => {
      for (const { reject: fail } of pending.values()) fail(new Error(`worker ${script} exited (code ${code})`));
      pending.clear();
    });
    child.on('message', (raw: Reply | Notice) => {
      if ('ready' in raw) {
        child.off('exit', onEarlyExit);
        resolve(worker);
      } else if ('event' in raw) {
        for (const listener of listeners.get(raw.event) ?? []) listener(raw.data);
      } else {
        const waiting = pending.get(raw.id);
        if (!waiting) return;
        pending.delete(raw.id);
        if ('error' in raw) waiting.reject(new Error(`${script}: ${raw.error}`));
        else waiting.resolve(raw.result as never);
      }
    });
    const worker: Worker<A> = {
      pid: child.pid ?? 0,
      child,
      call(method, params) {
        const id = nextId++;
        return new Promise((resolveCall, rejectCall) => {
          pending.set(id, { resolve: resolveCall as (value: never) => void, reject: rejectCall });
          child.send({ id, method, params } satisfies Request);
        });
      },
      on(event, listener) {
        listeners.set(event, [...(listeners.get(event) ?? []), listener]);
      },
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      },
    };
  });
}

/** The worker side: answers calls with the handlers, and says it is ready. */
export function serve(handlers: Api): void {
  const send = (message: Reply | Notice) => process.send?.(message);
  process.on('message', (request: Request) => {
    const handler = handlers[request.method] as ((params: unknown) => unknown) | undefined;
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`no method ${request.method}`);
        return handler(request.params);
      })
      .then(
        (result) => send({ id: request.id, result }),
        (error: unknown) => send({ id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  // The parent going away ends the worker: nothing is left running after a bench is interrupted.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  send({ ready: true });
}

/** Sends an event to the parent (progress counters). */
export function notify(event: string, data: unknown): void {
  process.send?.({ event, data } satisfies Notice);
}
