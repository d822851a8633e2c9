import type { IncomingMessage } from 'node:http';

/**
 * Browsers send Origin on both polling and WebSocket requests, and CORS does
 * not protect WebSocket upgrades, so the origin is checked here for both.
 * Requests without Origin come from non-browser clients and are judged by
 * their token alone. Same-origin pages are always allowed.
 */
export function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.has(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Socket.IO's `allowRequest`: refuses every request while draining, and requests from origins not allowed. */
export function allowRequest(corsOrigins: readonly string[], draining: () => boolean) {
  const allowed = new Set(corsOrigins);
  return (req: IncomingMessage, callback: (error: string | null | undefined, success: boolean) => void): void => {
    if (draining()) callback('server shutting down', false);
    else if (originAllowed(req, allowed)) callback(null, true);
    else callback('origin not allowed', false);
  };
}
