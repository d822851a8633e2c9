/**
 * Only http(s) URLs and same-site paths are ever followed; the server refuses anything else too.
 * The same rule as isSafeActionUrl in shared/: kept as a copy because importing a value from
 * shared/ would pull its zod schemas into the browser bundle.
 */
export function safeHref(url: string | undefined): string | undefined {
  if (!url) return undefined;
  if (url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}
