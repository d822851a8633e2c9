/**
 * The one link check both sides use: the server refuses any other actionUrl,
 * and the client follows nothing else. This file imports nothing, so a browser
 * bundle can take it without the schemas (`@herald/shared/action-url`).
 *
 * Only links a browser follows without running anything: absolute http(s), or
 * a path on this site. `javascript:`, `data:` and protocol-relative `//host`
 * links are refused.
 */
export function isSafeActionUrl(value: string): boolean {
  if (value.startsWith('/')) return !value.startsWith('//') && !value.startsWith('/\\');
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The href to follow for an actionUrl, or undefined when it is missing or not safe (absolute URLs normalised). */
export function safeHref(url: string | undefined): string | undefined {
  if (!url || !isSafeActionUrl(url)) return undefined;
  return url.startsWith('/') ? url : new URL(url).href;
}
