import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { DemoBus, Payload } from '../bus.js';
import type { SmtpSpike } from '../spike.js';

/** What `notification_service` needs. */
export interface NotificationServiceOptions {
  bus: DemoBus;
  logger: Logger;
  tracer: Tracer;
  /** Chance that one simulated SMTP call fails (besides `flaky…` addresses). @defaultValue 0 */
  failureRate?: number;
  /** Attempts per email before the handler gives up. @defaultValue 3 */
  maxAttempts?: number;
  /** A slow SMTP relay, when the walkthrough switches it on. */
  spike?: SmtpSpike;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `notification_service`: on `user.registered`, sends a welcome email, publishes `notification.sent`. */
export async function startNotificationService(options: NotificationServiceOptions): Promise<void> {
  const { bus, logger, tracer } = options;
  const maxAttempts = options.maxAttempts ?? 3;
  const failureRate = options.failureRate ?? 0;

  // Simulated SMTP: a little latency; addresses starting with "flaky" fail on the first try.
  async function sendEmail(to: string, attempt: number): Promise<void> {
    await tracer.startActiveSpan(
      'smtp send',
      { kind: SpanKind.CLIENT, attributes: { attempt } },
      async (span) => {
        try {
          await options.spike?.wait();
          await delay(5 + Math.random() * 15);
          if ((to.startsWith('flaky') && attempt === 1) || Math.random() < failureRate) {
            throw new Error('SMTP 451: temporary failure, try again');
          }
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  await bus.subscribe('user.registered', 'notification_service', async (user: Payload) => {
    const email = String(user.email);
    logger.info({ user_id: user.id }, 'sending welcome email');
    const startedAt = performance.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await sendEmail(email, attempt);
        break;
      } catch (error) {
        if (attempt >= maxAttempts) throw error; // the bus's redelivery semantics take over
        logger.warn(
          { user_id: user.id, attempt, err: (error as Error).message },
          'email failed; retrying',
        );
        await delay(10 * 2 ** attempt);
      }
    }
    const smtpMs = Math.round(performance.now() - startedAt);
    logger.info({ user_id: user.id, smtp_ms: smtpMs }, 'welcome email sent');
    await bus.publish('notification.sent', {
      user_id: user.id,
      channel: 'email',
      template: 'welcome',
    });
  });
}
