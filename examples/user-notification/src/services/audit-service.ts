import type { Logger } from 'pino';
import type { DemoBus, Payload } from '../bus.js';

/** One audit record. */
export interface AuditRecord {
  userId: string;
  channel: string;
}

/** `audit_service`: records every `notification.sent`. */
export async function startAuditService(options: {
  bus: DemoBus;
  logger: Logger;
  onRecord?: (record: AuditRecord) => void;
}): Promise<void> {
  const { bus, logger } = options;
  await bus.subscribe('notification.sent', 'audit_service', async (notification: Payload) => {
    const record = { userId: String(notification.user_id), channel: String(notification.channel) };
    logger.info({ user_id: record.userId, channel: record.channel }, 'audit record stored');
    options.onRecord?.(record);
  });
}
