const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Why a key-set URL is refused, or undefined when it is fine: https, http to a loopback host (a local
 * identity provider), or http to any host when `allowHttp` says the network is trusted (an internal key
 * server in Compose or Kubernetes). The same rule for AUTH_JWKS_URL and attachHerald's `auth.jwksUrl`.
 *
 * @example
 * jwksUrlProblem('http://host-app:4000/jwks.json', false); // 'must be https:// (http:// only for localhost, or with AUTH_JWKS_ALLOW_HTTP=true)'
 */
export function jwksUrlProblem(value: string, allowHttp: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an https:// URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return 'must be an https:// URL';
  if (allowHttp || LOOPBACK_HOSTS.includes(url.hostname)) return undefined;
  return 'must be https:// (http:// only for localhost, or with AUTH_JWKS_ALLOW_HTTP=true)';
}
