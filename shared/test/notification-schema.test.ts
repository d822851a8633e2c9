import {
  ERROR_CODES,
  countsRequestSchema,
  createNames,
  errorTraits,
  isSafeActionUrl,
  jsonDataSchema,
  matchesFilter,
  notificationFilterSchema,
  publishNotificationInputSchema,
  safeHref,
  userRoom,
  type Notification,
} from '../src';

const id = 'a'.repeat(24);

describe('notification input schema', () => {
  it('accepts a full notification and removes duplicate recipients (ids are case-sensitive)', () => {
    const parsed = publishNotificationInputSchema.parse({
      userIds: [id, id.toUpperCase(), id, 'b'.repeat(24)],
      type: 'comment.created',
      title: ' Hi ',
      body: 'text',
      actionUrl: 'https://example.com/x',
      actor: { id: 'u1', name: 'Alice' },
      data: { postId: 1, tags: ['a'], nested: { ok: true } },
    });
    expect(parsed.userIds).toEqual([id, id.toUpperCase(), 'b'.repeat(24)]);
    expect(parsed.title).toBe('Hi');
  });

  it('refuses unknown fields', () => {
    expect(publishNotificationInputSchema.safeParse({ userIds: [id], type: 'a', title: 't', extra: 1 }).success).toBe(false);
  });
});

describe('actionUrl', () => {
  it.each([
    'https://example.com/a?b=c',
    'http://localhost:3000/x',
    'HTTPS://Example.com/A',
    '/posts/1',
    '/',
    '/search?q=a%20b#top',
    // Percent-encoded slashes and backslashes stay in the path: the browser asks this site for them.
    '/%2F%2Fevil.example',
    '/%5Cevil.example',
    '/%09/evil.example',
    // An international host is allowed, and followed in its ASCII form (see safeHref).
    'https://bücher.example/a',
  ])('allows %s', (url) => {
    expect(isSafeActionUrl(url)).toBe(true);
  });
  it.each([
    'javascript:alert(1)',
    'JAVASCRIPT:alert(1)',
    'JaVaScRiPt:alert(1)',
    ' javascript:x',
    '\tjavascript:alert(1)',
    'java\nscript:alert(1)',
    'data:text/html,<script>',
    'DATA:text/html,x',
    'vbscript:x',
    '//evil.example/x',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r/evil.example',
    '\t//evil.example',
    // Dot segments that collapse into a protocol-relative path once parsed.
    '/..//evil.example',
    '/.//evil.example/login',
    '/%2e%2e//evil.example',
    '/%2E%2E//evil.example',
    '/a/..//evil.example',
    '/./%2e//evil.example',
    ' /posts/1',
    '/posts/1 ',
    'https://example.com/a\\b',
    'ftp://x',
    'posts/1',
    '',
  ])('refuses %j', (url) => {
    expect(isSafeActionUrl(url)).toBe(false);
  });
  it('is the same rule for actionUrl and action button URLs', () => {
    for (const url of ['/..//evil.example', '/%2e%2e//evil.example']) {
      const input = { userIds: [id], type: 'a.b', title: 't' };
      expect(publishNotificationInputSchema.safeParse({ ...input, actionUrl: url }).success).toBe(false);
      expect(publishNotificationInputSchema.safeParse({ ...input, actions: [{ id: 'open', label: 'Open', url }] }).success).toBe(false);
    }
  });
  it('gives the href as the browser will see it: paths stay paths, hosts in ASCII', () => {
    expect(safeHref('/a/../b?x=1#y')).toBe('/b?x=1#y');
    expect(safeHref('https://bücher.example/a')).toBe('https://xn--bcher-kva.example/a');
    expect(safeHref('/\t/evil.example')).toBeUndefined();
    expect(safeHref(undefined)).toBeUndefined();
  });
});

describe('shown text (title, body, actor name)', () => {
  const parse = (fields: Record<string, unknown>) =>
    publishNotificationInputSchema.safeParse({ userIds: [id], type: 'a.b', title: 't', ...fields });
  const refusedAt = (fields: Record<string, unknown>) => {
    const result = parse(fields);
    return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
  };

  it('is normalised to NFC', () => {
    const result = parse({ title: 'Cafe\u0301', body: 'cafe\u0301' });
    expect(result.success && [result.data.title, result.data.body]).toEqual(['Café', 'café']);
  });
  it.each([
    ['a right-to-left override', '\u202Eexe.txt'],
    ['a left-to-right embedding', 'a\u202Ab'],
    ['a bidi isolate', 'a\u2067b\u2069'],
    ['a zero-width space', 'ad\u200Bmin'],
    ['a byte-order mark', '\uFEFFhello'],
    ['a word joiner', 'a\u2060b'],
    ['a NUL', 'a\u0000b'],
    ['an escape', 'a\u001b[31mred'],
    ['a C1 control', 'a\u0085b'],
    ['a left-to-right mark', 'a\u200Eb'],
    ['a right-to-left mark', 'a\u200Fb'],
    ['an Arabic letter mark', 'a\u061Cb'],
    ['a Hangul filler', 'a\u3164b'],
    ['a halfwidth Hangul filler', 'a\uFFA0b'],
    ['a tag character', 'flag\u{E0067}\u{E0062}'],
  ])('refuses %s, naming the field', (_name, text) => {
    expect(refusedAt({ title: text })).toContain('title');
    expect(refusedAt({ body: text })).toContain('body');
    expect(refusedAt({ actor: { id: 'u1', name: text } })).toContain('actor.name');
  });
  it('needs at least one visible character: not only combining marks or spaces', () => {
    expect(refusedAt({ title: '\u0301\u0302\u0303' })).toContain('title');
    expect(refusedAt({ actor: { id: 'u1', name: '\u0301 \u0302' } })).toContain('actor.name');
    expect(refusedAt({ body: '\u0301\u0302' })).toContain('body');
    expect(parse({ title: 'Café \u{1F600}', body: '' }).success).toBe(true);
  });
  it('refuses a NUL or a bidi override in actor.id', () => {
    expect(refusedAt({ actor: { id: 'u\u0000', name: 'Ada' } })).toContain('actor.id');
    expect(refusedAt({ actor: { id: '\u202Eu1', name: 'Ada' } })).toContain('actor.id');
  });
  it('keeps tab and newline in a body, not in a title', () => {
    expect(parse({ body: 'line one\n\tline two' }).success).toBe(true);
    expect(refusedAt({ title: 'two\nlines' })).toContain('title');
  });
  it('keeps the joiners scripts and emoji need', () => {
    expect(parse({ title: 'family \u{1F468}\u200D\u{1F469}\u200D\u{1F467}', body: 'می\u200Cخواهم' }).success).toBe(true);
  });
});

describe('data', () => {
  const refuses = (value: unknown) => expect(jsonDataSchema.safeParse(value).success).toBe(false);

  it('accepts plain JSON objects', () => {
    expect(jsonDataSchema.safeParse({ a: [1, 'x', null, { b: false }] }).success).toBe(true);
  });
  it('refuses operator keys at any depth', () => {
    refuses({ $gt: '' });
    refuses({ a: [{ $where: 'x' }] });
  });
  it('refuses prototype keys as parsed from JSON', () => {
    refuses(JSON.parse('{"__proto__": {"x": 1}}'));
    refuses({ constructor: { prototype: {} } });
    refuses({ a: { prototype: 1 } });
  });
  it('refuses dotted keys, deep nesting, non-JSON values and large objects', () => {
    refuses({ 'a.b': 1 });
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 12; i++) deep = deep.x = {} as Record<string, unknown>;
    refuses(root);
    refuses({ when: new Date() });
    refuses({ n: Infinity });
    refuses({ big: 'x'.repeat(5000) });
    refuses('string');
    refuses(null);
  });
});

describe('naming', () => {
  it('rooms and channels round-trip', () => {
    expect(userRoom(id)).toBe(`user-${id}`);
    const names = createNames();
    expect(names.userIdFromChannel(names.userChannel(id))).toBe(id);
    expect(names.userIdFromChannel(createNames('other').userChannel(id))).toBeUndefined();
    expect(names.seqKey(id)).toBe(`herald:seq:{${id}}`);
  });
});

describe('safeHref (what the client follows)', () => {
  it('keeps same-site paths and normalises http(s) URLs', () => {
    expect(safeHref('/posts/1')).toBe('/posts/1');
    expect(safeHref('https://example.com')).toBe('https://example.com/');
  });
  it.each([
    undefined,
    '',
    'javascript:alert(1)',
    '//evil.example',
    '/\\evil.example',
    'posts/1',
    '/..//evil.example',
    '/.//evil.example/login',
    '/%2e%2e//evil.example',
  ])('follows nothing for %p', (url) => {
    expect(safeHref(url)).toBeUndefined();
  });
});

describe('the error table', () => {
  it('gives every code a status and what a client does with it', () => {
    for (const code of ERROR_CODES) {
      const traits = errorTraits(code);
      expect(traits.status).toBeGreaterThanOrEqual(400);
      expect(traits.signsOut && traits.retryable).toBe(false);
    }
    expect(ERROR_CODES.filter((code) => errorTraits(code).signsOut).sort()).toEqual(['invalid_token', 'token_expired', 'unauthorized']);
    expect(errorTraits('database_unavailable')).toEqual({ status: 503, retryable: true, signsOut: false });
    expect(errorTraits('some_future_code')).toEqual(errorTraits('internal'));
  });
});

describe('filters (tabs)', () => {
  const n = (extra: Partial<Notification>): Notification => ({
    id: '0'.repeat(24),
    userId: 'u',
    seq: 1,
    type: 'a.b',
    title: 't',
    createdAt: new Date(0).toISOString(),
    ...extra,
  });

  it('selects by category, any of the tags, and each data field; an empty filter selects all', () => {
    const comment = n({ category: 'social', tags: ['reply'], data: { postId: 'p1', score: 5, pinned: false } });
    expect(matchesFilter(comment, {})).toBe(true);
    expect(matchesFilter(comment, { category: 'social' })).toBe(true);
    expect(matchesFilter(comment, { category: 'billing' })).toBe(false);
    expect(matchesFilter(comment, { tags: ['mention', 'reply'] })).toBe(true);
    expect(matchesFilter(comment, { tags: ['mention'] })).toBe(false);
    expect(matchesFilter(comment, { data: { postId: 'p1', score: 5, pinned: false } })).toBe(true);
    expect(matchesFilter(comment, { data: { score: '5' } })).toBe(false);
    expect(matchesFilter(n({}), { tags: ['reply'] })).toBe(false);
  });

  it('refuses operators, paths and too many filters', () => {
    expect(notificationFilterSchema.safeParse({ data: { $gt: 1 } }).success).toBe(false);
    expect(notificationFilterSchema.safeParse({ data: { 'a.b': 1 } }).success).toBe(false);
    expect(notificationFilterSchema.safeParse({ data: { a: { $ne: 1 } } }).success).toBe(false);
    expect(notificationFilterSchema.safeParse({ category: 'x', extra: 1 }).success).toBe(false);
    expect(notificationFilterSchema.safeParse({ tags: [] }).success).toBe(false);
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, {}]));
    expect(countsRequestSchema.safeParse({ filters: eleven }).success).toBe(false);
    expect(countsRequestSchema.safeParse({ filters: { ok: { category: 'social' } } }).success).toBe(true);
  });

  it('publishing keeps at most 10 distinct tags and a token-like category', () => {
    const base = { userIds: ['u'], type: 'a.b', title: 't' };
    expect(publishNotificationInputSchema.parse({ ...base, tags: ['a', 'a', 'b'] }).tags).toEqual(['a', 'b']);
    expect(publishNotificationInputSchema.safeParse({ ...base, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }).success).toBe(false);
    expect(publishNotificationInputSchema.safeParse({ ...base, category: 'Not OK' }).success).toBe(false);
  });
});
