import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTopicMessages } from '../notifications';
import type { Session } from './session';
import { postsApi, type Comment, type Post } from './posts-api';

function PostCard({
  post,
  session,
  expanded,
  onChange,
}: {
  post: Post;
  session: Session;
  expanded: boolean;
  onChange: (post: Post) => void;
}) {
  const api = postsApi(session.token);
  const [open, setOpen] = useState(expanded);
  const [comments, setComments] = useState<Comment[] | null>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);

  const loadComments = useCallback(() => postsApi(session.token).comments(post.id).then(setComments), [session.token, post.id]);

  useEffect(() => {
    if (!open || comments !== null) return;
    let live = true;
    void postsApi(session.token)
      .comments(post.id)
      .then((list) => {
        if (live) setComments(list);
      });
    return () => {
      live = false;
    };
  }, [open, comments, session.token, post.id]);

  // A comment from someone else arrived on the post's topic: reload the open thread.
  useEffect(() => {
    if (open && post.commentCount > (comments?.length ?? 0) && comments !== null) void loadComments();
  }, [open, post.commentCount, comments, loadComments]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!text.trim()) return;
    try {
      setError(null);
      await api.comment(post.id, text);
      setText('');
      onChange({ ...post, commentCount: post.commentCount + 1 });
      await loadComments();
    } catch (e) {
      setError(e instanceof Error ? e.message : 'Could not comment.');
    }
  }

  return (
    <article className="post" id={`post-${post.id}`} data-testid="post">
      <header className="post-head">
        <strong>{post.author.name}</strong>
        <time dateTime={post.createdAt}>{new Date(post.createdAt).toLocaleString()}</time>
      </header>
      <p className="post-text">{post.text}</p>
      <div className="post-actions">
        <button type="button" aria-pressed={post.likedByMe} onClick={() => void api.like(post.id).then(onChange)} data-testid="like">
          {post.likedByMe ? '♥ Liked' : '♡ Like'} · {post.likeCount}
        </button>
        <button type="button" aria-expanded={open} onClick={() => setOpen((o) => !o)} data-testid="comments-toggle">
          {post.commentCount} comment{post.commentCount === 1 ? '' : 's'}
        </button>
        {post.author.id === session.user.id ? null : (
          <button
            type="button"
            aria-pressed={post.followedByMe}
            onClick={() => void api.follow(post.id, !post.followedByMe).then(onChange)}
            data-testid="follow"
          >
            {post.followedByMe ? 'Following' : 'Follow'}
          </button>
        )}
      </div>
      {open ? (
        <section className="comments" aria-label="Comments">
          {(comments ?? []).map((c) => (
            <p key={c.id} className="comment">
              <strong>{c.author.name}</strong> {c.text}
            </p>
          ))}
          <form onSubmit={(e) => void submit(e)} className="comment-form">
            <label className="sr-only" htmlFor={`comment-${post.id}`}>
              Write a comment
            </label>
            <input
              id={`comment-${post.id}`}
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder="Write a comment…"
              maxLength={1000}
              data-testid="comment-input"
            />
            <button type="submit" data-testid="comment-submit">
              Comment
            </button>
          </form>
          {error ? <p role="alert">{error}</p> : null}
        </section>
      ) : null}
    </article>
  );
}

/** The demo's social feed: write posts, comment, like, follow. */
export function PostsPage({ session, focusPostId }: { session: Session; focusPostId?: string }) {
  const api = postsApi(session.token);
  const [posts, setPosts] = useState<Post[] | null>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    postsApi(session.token)
      .list()
      .then(
        (list) => live && setPosts(list),
        (e: unknown) => live && setError(e instanceof Error ? e.message : 'Could not load posts.'),
      );
    return () => {
      live = false;
    };
  }, [session.token]);

  // Live comments from other people, through the post's topic (its author and followers hear them).
  useTopicMessages({ event: 'comment.created' }, (message) => {
    const { postId } = message.data;
    setPosts((list) => (list ?? []).map((p) => (p.id === postId ? { ...p, commentCount: p.commentCount + 1 } : p)));
  });

  useEffect(() => {
    if (focusPostId && posts) document.getElementById(`post-${focusPostId}`)?.scrollIntoView({ block: 'center' });
  }, [focusPostId, posts]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!text.trim()) return;
    try {
      const post = await api.create(text);
      setText('');
      setPosts((list) => [post, ...(list ?? [])]);
    } catch (e) {
      setError(e instanceof Error ? e.message : 'Could not post.');
    }
  }

  return (
    <main className="app-main">
      <form className="composer" onSubmit={(e) => void submit(e)}>
        <label htmlFor="composer-text" className="sr-only">
          What is happening?
        </label>
        <textarea
          id="composer-text"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={`What's on your mind, ${session.user.name.split(' ')[0]}?`}
          maxLength={1000}
          data-testid="composer"
        />
        <button type="submit" data-testid="publish-post">
          Post
        </button>
      </form>
      {error ? <p role="alert">{error}</p> : null}
      {posts === null ? <p>Loading posts…</p> : posts.length === 0 ? <p>No posts yet. Write the first one.</p> : null}
      {(posts ?? []).map((post) => (
        <PostCard
          key={post.id}
          post={post}
          session={session}
          expanded={post.id === focusPostId}
          onChange={(p) => setPosts((list) => (list ?? []).map((x) => (x.id === p.id ? p : x)))}
        />
      ))}
    </main>
  );
}
