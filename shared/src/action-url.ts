/**
 * The one link rule both sides use: the server refuses any other actionUrl,
 * and the client follows nothing else. This file imports nothing, so a browser
 * bundle can take it without the schemas (`@herald/shared/action-url`).
 *
 * A link is parsed the way the browser will parse it (the WHATWG URL parser,
 * against a fixed base), and only two shapes pass: an absolute http(s) URL, or
 * a path on this site, i.e. one starting with `/` whose parsed origin is still
 * the base's. Characters browsers strip or rewrite before parsing (tabs,
 * newlines, other control characters, backslashes, surrounding spaces) are
 * refused outright, so `/\t/evil.example` and `/\evil` cannot become
 * `//evil.example`. `javascript:`, `data:` and protocol-relative `//host` fail
 * on their parsed protocol or origin. A path whose parsed pathname starts with
 * `//` (`/..//evil.example`, `/%2e%2e//evil.example`: dot segments collapse) is
 * refused too: written back as an href it would be protocol-relative.
 */
const BASE = 'https://herald.invalid';
const BASE_ORIGIN = new URL(BASE).origin;
/** C0 controls (tab, newline, carriage return among them), DEL, backslash, and any whitespace at either end. */
// eslint-disable-next-line no-control-regex -- finding control characters is what this is for
const REWRITTEN = /[\u0000-\u001f\u007f\\]|^\s|\s$/;

function parse(value: string): URL | undefined {
  if (REWRITTEN.test(value)) return undefined;
  try {
    const url = new URL(value, BASE);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether an actionUrl may be stored and followed: an absolute http(s) URL, or a same-site path.
 *
 * @example
 * isSafeActionUrl('/posts/42'); // true
 * isSafeActionUrl('/\t/evil.example'); // false
 */
export function isSafeActionUrl(value: string): boolean {
  const url = parse(value);
  if (!url) return false;
  // A path must stay on this site once parsed; anything else must have been absolute to begin with.
  if (value.startsWith('/')) return url.origin === BASE_ORIGIN && !url.pathname.startsWith('//');
  return url.origin !== BASE_ORIGIN && /^https?:/i.test(value);
}

/**
 * The href to follow for an actionUrl, as the parser normalised it (a path stays a path; a host is
 * shown in its ASCII form), or undefined when it is missing or not safe.
 *
 * @example
 * safeHref('https://bücher.example/a'); // 'https://xn--bcher-kva.example/a'
 */
export function safeHref(url: string | undefined): string | undefined {
  if (!url || !isSafeActionUrl(url)) return undefined;
  const parsed = new URL(url, BASE);
  if (!url.startsWith('/')) return parsed.href;
  const href = `${parsed.pathname}${parsed.search}${parsed.hash}`;
  // isSafeActionUrl already refused a pathname starting with `//`; never hand one out, whatever changes above.
  return href.startsWith('//') ? undefined : href;
}
