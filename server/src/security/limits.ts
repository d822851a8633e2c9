/** A budget of `points` per key within a window of `seconds` (fixed windows, shared by every instance). */
export interface Rate {
  points: number;
  seconds: number;
}

/** The rate-limited budgets, each kept per caller in Redis. */
export type RateName = 'userRequests' | 'userEvents' | 'serviceRequests' | 'ipRequests' | 'ipHandshakes';

/**
 * Every limit Herald enforces against one caller, in one place: what the README's "Limits" table lists
 * and the environment sets (see config.ts). Each has a default fit for production.
 */
export interface Limits {
  /** Time a client has to send a request's headers, in ms. @default 10000 */
  headersTimeoutMs: number;
  /** Time a client has to send a whole request (headers and body), in ms. @default 30000 */
  requestTimeoutMs: number;
  /**
   * Budgets per caller; `false` turns one off.
   * - userRequests: HTTP requests to a signed-in user's routes, per user.
   * - userEvents: socket events (sync, read, subscribe, …), per user over all their sockets.
   * - serviceRequests: HTTP requests with a service token (publish, topics, feeds), per token.
   * - ipRequests: requests without credentials, and requests whose credentials are refused, per client address.
   * - ipHandshakes: Socket.IO handshakes, per client address, counted before the token is checked.
   */
  rates: Record<RateName, Rate | false>;
  /** Open sockets of one user over every instance; a new one closes the oldest. 0: no cap. @default 20 */
  maxSocketsPerUser: number;
  /** Open sockets from one client address on one instance; more are refused. 0: no cap. @default 2000 */
  maxSocketsPerAddress: number;
}

export const defaultLimits: Limits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  rates: {
    userRequests: { points: 300, seconds: 60 },
    userEvents: { points: 300, seconds: 60 },
    serviceRequests: { points: 5000, seconds: 10 },
    ipRequests: { points: 120, seconds: 60 },
    ipHandshakes: { points: 600, seconds: 60 },
  },
  maxSocketsPerUser: 20,
  maxSocketsPerAddress: 2000,
};

/** The defaults with the given limits in place of theirs. */
export function withDefaultLimits(limits: Partial<Limits> | undefined): Limits {
  return { ...defaultLimits, ...limits, rates: { ...defaultLimits.rates, ...limits?.rates } };
}

/** Reads a rate as the environment writes it: `300/60s` (300 per 60 seconds), or `off`. */
export function parseRate(text: string): Rate | false | undefined {
  if (/^\s*off\s*$/i.test(text)) return false;
  const match = /^\s*(\d{1,9})\s*\/\s*(\d{1,6})\s*s\s*$/.exec(text);
  if (!match) return undefined;
  const rate = { points: Number(match[1]), seconds: Number(match[2]) };
  return rate.points > 0 && rate.seconds > 0 ? rate : undefined;
}

/** The environment variable of each budget. */
export const RATE_VARIABLES: Record<RateName, string> = {
  userRequests: 'RATE_LIMIT_USER_REQUESTS',
  userEvents: 'RATE_LIMIT_USER_EVENTS',
  serviceRequests: 'RATE_LIMIT_SERVICE_REQUESTS',
  ipRequests: 'RATE_LIMIT_IP_REQUESTS',
  ipHandshakes: 'RATE_LIMIT_IP_HANDSHAKES',
};
