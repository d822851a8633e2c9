import { requestJson as request } from '../notifications';

export interface Post {
  id: string;
  author: { id: string; name: string };
  text: string;
  likeCount: number;
  likedByMe: boolean;
  followedByMe: boolean;
  commentCount: number;
  createdAt: string;
}

export interface Comment {
  id: string;
  postId: string;
  author: { id: string; name: string };
  text: string;
  createdAt: string;
}

export function postsApi(token: string) {
  return {
    list: () => request<{ posts: Post[] }>('GET', '/api/posts', { token }).then((r) => r.posts),
    create: (text: string) => request<{ post: Post }>('POST', '/api/posts', { token, body: { text } }).then((r) => r.post),
    comments: (postId: string) =>
      request<{ comments: Comment[] }>('GET', `/api/posts/${postId}/comments`, { token }).then((r) => r.comments),
    comment: (postId: string, text: string) =>
      request<{ comment: Comment }>('POST', `/api/posts/${postId}/comments`, { token, body: { text } }).then((r) => r.comment),
    like: (postId: string) => request<{ post: Post }>('POST', `/api/posts/${postId}/like`, { token }).then((r) => r.post),
    follow: (postId: string, on: boolean) =>
      request<{ post: Post }>(on ? 'POST' : 'DELETE', `/api/posts/${postId}/follow`, { token }).then((r) => r.post),
    users: () => request<{ users: { id: string; username: string; name: string }[] }>('GET', '/api/users', { token }).then((r) => r.users),
    config: () => request<{ devTools: boolean }>('GET', '/api/config'),
  };
}
