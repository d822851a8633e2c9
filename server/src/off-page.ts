import type { Connection } from 'mongoose';
import { ConfigError } from './config';
import { checkOffPage, type OffPageConfig, type OffPageOptions } from './off-page-config';
import { withDatabaseDeadlines } from './platform/deadline';
import { createJobStore, type JobDoc } from './notifications/scheduled-jobs';
import type { Logger } from './platform/logger';
import type { Metrics } from './platform/metrics';
import { createPushStage } from './push/push-stage';
import { createPushSubscriptions, type PushSubscriptions } from './push/push-subscriptions';
import { createRecipientService, type RecipientService } from './recipients/recipient-service';

/** What reaching users off the page is built from: the settings, who the recipients are, their push subscriptions. */
export interface OffPage {
  config: OffPageConfig;
  recipients: RecipientService;
  pushSubscriptions: PushSubscriptions;
  /** Runs `push` jobs; absent while push is off. */
  push?: (job: JobDoc) => Promise<void>;
}

/** Checks the off-page settings (a ConfigError names every problem) and opens their stores on the connection. */
export function createOffPage(
  connection: Connection,
  options: OffPageOptions,
  context: { logger: Logger; critical?: readonly string[]; metrics?: Pick<Metrics, 'pushMessages'> },
): OffPage {
  const { config, problems } = checkOffPage(options);
  if (problems.length > 0) throw new ConfigError(problems);
  const subscriptions = createPushSubscriptions(connection);
  return {
    config,
    recipients: withDatabaseDeadlines(createRecipientService(connection)),
    pushSubscriptions: withDatabaseDeadlines(subscriptions),
    ...(config.push
      ? {
          push: createPushStage({
            connection,
            config: config.push,
            subscriptions,
            jobs: createJobStore(connection),
            logger: context.logger,
            ...(context.critical ? { critical: context.critical } : {}),
            ...(context.metrics ? { onOutcome: (outcome) => context.metrics!.pushMessages.inc({ outcome }) } : {}),
          }),
        }
      : {}),
  };
}
