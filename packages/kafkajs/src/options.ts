import { DEFAULT_LAG_INTERVAL_MS } from '@baton/core';
import { diag } from '@opentelemetry/api';
import type { KafkaAdminLike, KafkaConsumerOptions } from './types.js';
import { PACKAGE_NAME } from './version.js';

/** Defaults of the consumer options Baton's core does not own. */
export const DEFAULT_KAFKA_CONSUMER_OPTIONS = Object.freeze({
  messageKeyAttribute: true,
  lagIntervalMs: DEFAULT_LAG_INTERVAL_MS,
});

export interface ResolvedConsumerSettings {
  groupId: string | undefined;
  messageKeyAttribute: boolean;
  lagIntervalMs: number;
  lagAdmin: KafkaAdminLike | undefined;
}

function warn(name: string, value: unknown): void {
  diag.warn(`${PACKAGE_NAME}: ignoring invalid option ${name}=${String(value)}; using the default`);
}

function isAdmin(value: unknown): value is KafkaAdminLike {
  const admin = value as KafkaAdminLike | null | undefined;
  return (
    typeof admin?.fetchOffsets === 'function' && typeof admin?.fetchTopicOffsets === 'function'
  );
}

/** Validates the Kafka-specific consumer options once; bad values fall back with a warning. */
export function resolveConsumerSettings(
  options: KafkaConsumerOptions | undefined,
): ResolvedConsumerSettings {
  const given = options && typeof options === 'object' ? options : {};
  const settings: ResolvedConsumerSettings = {
    groupId: undefined,
    messageKeyAttribute: DEFAULT_KAFKA_CONSUMER_OPTIONS.messageKeyAttribute,
    lagIntervalMs: DEFAULT_KAFKA_CONSUMER_OPTIONS.lagIntervalMs,
    lagAdmin: undefined,
  };
  if (typeof given.groupId === 'string' && given.groupId !== '') settings.groupId = given.groupId;
  else if (given.groupId !== undefined) warn('groupId', given.groupId);
  if (typeof given.messageKeyAttribute === 'boolean') {
    settings.messageKeyAttribute = given.messageKeyAttribute;
  } else if (given.messageKeyAttribute !== undefined) {
    warn('messageKeyAttribute', given.messageKeyAttribute);
  }
  const interval = given.lagIntervalMs;
  if (typeof interval === 'number' && Number.isFinite(interval) && interval > 0) {
    settings.lagIntervalMs = interval;
  } else if (interval !== undefined) warn('lagIntervalMs', interval);
  if (isAdmin(given.lagAdmin)) settings.lagAdmin = given.lagAdmin;
  else if (given.lagAdmin !== undefined) warn('lagAdmin', given.lagAdmin);
  return settings;
}
