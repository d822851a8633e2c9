/**
 * Every limit Herald enforces against one caller, in one place: what the README's "Limits" table lists
 * and the environment sets (see config.ts). Each has a default fit for production.
 */
export interface Limits {
  /** Time a client has to send a request's headers, in ms. @default 10000 */
  headersTimeoutMs: number;
  /** Time a client has to send a whole request (headers and body), in ms. @default 30000 */
  requestTimeoutMs: number;
}

export const defaultLimits: Limits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
};

/** The defaults with the given limits in place of theirs. */
export function withDefaultLimits(limits: Partial<Limits> | undefined): Limits {
  return { ...defaultLimits, ...limits };
}
