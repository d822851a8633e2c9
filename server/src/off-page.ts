import type { Connection } from 'mongoose';
import { ConfigError } from './config';
import { checkOffPage, type OffPageConfig, type OffPageOptions } from './off-page-config';
import type { OffPageSettings } from './notifications/outbox';
import { withDatabaseDeadlines } from './platform/deadline';
import { createJobStore, type JobDoc, type JobResult } from './notifications/scheduled-jobs';
import { createUnsubscribeLinks, type UnsubscribeLinks } from './email/email-links';
import { createEmailSender } from './email/email-sender';
import { createEmailStage } from './email/email-stage';
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
  /** Runs `email-due` and `digest` jobs, and signs and checks unsubscribe links; absent while email is off. */
  email?: { due(job: JobDoc): Promise<void>; digest(job: JobDoc): Promise<JobResult>; links: UnsubscribeLinks };
  /** Closes the SMTP connections. */
  close(): void;
}

/** Checks the off-page settings (a ConfigError names every problem) and opens their stores on the connection. */
export function createOffPage(
  connection: Connection,
  options: OffPageOptions,
  context: {
    logger: Logger;
    critical?: readonly string[];
    metrics?: Pick<Metrics, 'pushMessages' | 'emails'>;
    /** Where Herald's API is mounted (`/api`, or attachHerald's prefix): the unsubscribe link goes there. @default "/api" */
    apiPath?: string;
  },
): OffPage {
  const { config, problems } = checkOffPage(options);
  if (problems.length > 0) throw new ConfigError(problems);
  const subscriptions = createPushSubscriptions(connection);
  const recipients = withDatabaseDeadlines(createRecipientService(connection));
  const sender = config.email ? createEmailSender(config.email) : undefined;
  const links = config.email ? createUnsubscribeLinks(config.email.linkSecret) : undefined;
  return {
    config,
    close: () => sender?.close(),
    recipients,
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
    ...(config.email && sender && links
      ? {
          email: {
            links,
            ...createEmailStage({
              connection,
              config: config.email,
              jobs: createJobStore(connection),
              recipients,
              links,
              unsubscribePath: `${context.apiPath ?? '/api'}/email/unsubscribe`,
              ...(context.critical ? { critical: context.critical } : {}),
              send: sender.send,
              logger: context.logger,
              ...(context.metrics ? { onOutcome: (outcome) => context.metrics!.emails.inc({ outcome }) } : {}),
            }),
          },
        }
      : {}),
  };
}

/** What the writer needs to know of the channels configured: push on, email on with its default wait. */
export function offPageSettings(config: OffPageConfig): OffPageSettings {
  return {
    push: config.push !== undefined,
    ...(config.email ? { email: { unreadAfterSeconds: config.email.unreadAfterSeconds } } : {}),
  };
}
