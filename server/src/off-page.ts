import type { Connection } from 'mongoose';
import { ConfigError } from './config';
import { checkOffPage, type OffPageConfig, type OffPageOptions } from './off-page-config';
import { withDatabaseDeadlines } from './platform/deadline';
import { createPushSubscriptions, type PushSubscriptions } from './push/push-subscriptions';
import { createRecipientService, type RecipientService } from './recipients/recipient-service';

/** What reaching users off the page is built from: the settings, who the recipients are, their push subscriptions. */
export interface OffPage {
  config: OffPageConfig;
  recipients: RecipientService;
  pushSubscriptions: PushSubscriptions;
}

/** Checks the off-page settings (a ConfigError names every problem) and opens their stores on the connection. */
export function createOffPage(connection: Connection, options: OffPageOptions): OffPage {
  const { config, problems } = checkOffPage(options);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    config,
    recipients: withDatabaseDeadlines(createRecipientService(connection)),
    pushSubscriptions: withDatabaseDeadlines(createPushSubscriptions(connection)),
  };
}
