/**
 * `@herald/client/core`: the client half of the delivery model without React,
 * for other frameworks, workers and tests. The React face re-exports what a
 * React app needs.
 */
export { FeedClient, type ConnectionState, type FeedClientOptions, type FeedSocket } from './feed-client.js';
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
} from './feed-state.js';
export { createFeedApi, type FeedApi, type FeedApiLocation } from './feed-api.js';
export { keepTokenFresh, refreshDelay, tokenExpiry, type TokenRefreshOptions } from './token-refresh.js';
export { HeraldHttpError, requestJson, type RequestOptions } from './http.js';
export { openTabSync, type TabMessage, type TabSync } from './tab-sync.js';
export { addToast, defaultToastPolicy, expireToasts, type Toast, type ToastPolicy } from './toast-queue.js';
export { disablePush, enablePush, pushState, type EnablePushResult, type PushOptions, type PushState } from './push.js';
