/**
 * `@herald/client/core`: the client half of the delivery model without React,
 * for other frameworks, workers and tests. The React face re-exports what a
 * React app needs.
 */
export { FeedClient, type ConnectionState, type FeedClientOptions, type FeedSocket } from './feed-client';
export {
  applyAllRead,
  applyCounts,
  applyDeleted,
  applyFirstPage,
  applyLive,
  applyOlderPage,
  applySync,
  applyUpdated,
  emptyFeed,
  type FeedState,
} from './feed-state';
export { createFeedApi, type FeedApi } from './feed-api';
export { keepTokenFresh, tokenExpiry, type TokenRefreshOptions } from './token-refresh';
export { HeraldHttpError, requestJson, type RequestOptions } from './http';
export { openTabSync, type TabMessage, type TabSync } from './tab-sync';
export { addToast, defaultToastPolicy, expireToasts, type Toast, type ToastPolicy } from './toast-queue';
