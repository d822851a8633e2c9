import proxyAddr from 'proxy-addr';
import type { IncomingMessage } from 'node:http';

/**
 * A handshake's client address, read as express reads `req.ip` under the same `trust proxy` setting:
 * the peer's address, or the X-Forwarded-For entry the trusted proxies vouch for. Per-address limits
 * key on it; behind a proxy that is not trusted, every client would share the proxy's address.
 */
export function socketAddress(trustProxy: string): (socket: { request: IncomingMessage; handshake: { address: string } }) => string {
  const trust = proxyAddr.compile(trustProxy.split(',').map((entry) => entry.trim()));
  return (socket) => {
    try {
      return proxyAddr(socket.request, trust);
    } catch {
      return socket.handshake.address;
    }
  };
}
