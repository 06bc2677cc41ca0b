import { DEFAULT_LAG_INTERVAL_MS } from '@baton/core';
import { diag } from '@opentelemetry/api';
import { warnDeprecated } from './deprecation.js';
import type {
  KafkaAdminLike,
  KafkaConsumerOptions,
  KafkaHandlerOptions,
  KafkaProducerOptions,
} from './types.js';
import { PACKAGE_NAME } from './version.js';

/** Defaults of the Kafka options Baton's core does not own. */
export const DEFAULT_KAFKA_OPTIONS = Object.freeze({
  createSpans: false,
  messageKeyAttribute: true,
  lagIntervalMs: DEFAULT_LAG_INTERVAL_MS,
});

/** @deprecated Use {@link DEFAULT_KAFKA_OPTIONS}; goes away in the next release. */
export const DEFAULT_KAFKA_CONSUMER_OPTIONS = Object.freeze({
  messageKeyAttribute: DEFAULT_KAFKA_OPTIONS.messageKeyAttribute,
  lagIntervalMs: DEFAULT_KAFKA_OPTIONS.lagIntervalMs,
});

export interface ProducerSettings {
  createSpans: boolean;
  messageKeyAttribute: boolean;
}

export interface HandlerSettings {
  consumerGroup: string | undefined;
  messageKeyAttribute: boolean;
}

export interface ConsumerSettings extends HandlerSettings {
  lagIntervalMs: number;
  lagAdmin: KafkaAdminLike | undefined;
}

function warn(name: string, value: unknown): void {
  diag.warn(`${PACKAGE_NAME}: ignoring invalid option ${name}=${String(value)}; using the default`);
}

function given<T extends object>(options: T | undefined): Partial<T> {
  return options && typeof options === 'object' ? options : {};
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (typeof value === 'boolean') return value;
  if (value !== undefined) warn(name, value);
  return fallback;
}

function groupName(name: string, value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (value !== undefined) warn(name, value);
  return undefined;
}

function isAdmin(value: unknown): value is KafkaAdminLike {
  const admin = value as KafkaAdminLike | null | undefined;
  return (
    typeof admin?.fetchOffsets === 'function' && typeof admin?.fetchTopicOffsets === 'function'
  );
}

/** Validates the producer's Kafka options once; bad values fall back with a warning. */
export function resolveProducerSettings(
  options: KafkaProducerOptions | undefined,
): ProducerSettings {
  const { createSpans, messageKeyAttribute } = given(options);
  return {
    createSpans: flag('createSpans', createSpans, DEFAULT_KAFKA_OPTIONS.createSpans),
    messageKeyAttribute: flag(
      'messageKeyAttribute',
      messageKeyAttribute,
      DEFAULT_KAFKA_OPTIONS.messageKeyAttribute,
    ),
  };
}

/** Validates the options of {@link traceHandler} once. */
export function resolveHandlerSettings(options: KafkaHandlerOptions | undefined): HandlerSettings {
  const { consumerGroup, messageKeyAttribute } = given(options);
  return {
    consumerGroup: groupName('consumerGroup', consumerGroup),
    messageKeyAttribute: flag(
      'messageKeyAttribute',
      messageKeyAttribute,
      DEFAULT_KAFKA_OPTIONS.messageKeyAttribute,
    ),
  };
}

/** Validates the consumer's Kafka options once; `groupId` still works, deprecated. */
export function resolveConsumerSettings(
  options: KafkaConsumerOptions | undefined,
): ConsumerSettings {
  const all = given(options);
  const settings: ConsumerSettings = {
    ...resolveHandlerSettings(options),
    lagIntervalMs: DEFAULT_KAFKA_OPTIONS.lagIntervalMs,
    lagAdmin: undefined,
  };
  if (all.groupId !== undefined) {
    warnDeprecated('the option groupId', 'consumerGroup');
    const groupId = groupName('groupId', all.groupId);
    if (settings.consumerGroup === undefined) settings.consumerGroup = groupId;
  }
  const interval = all.lagIntervalMs;
  if (typeof interval === 'number' && Number.isFinite(interval) && interval > 0) {
    settings.lagIntervalMs = interval;
  } else if (interval !== undefined) warn('lagIntervalMs', interval);
  if (isAdmin(all.lagAdmin)) settings.lagAdmin = all.lagAdmin;
  else if (all.lagAdmin !== undefined) warn('lagAdmin', all.lagAdmin);
  return settings;
}
