import { type MessageDescription, MessagingTelemetry, warnOnce } from '@baton/core';
import { registerBatchScope } from './batch-scope.js';
import { describeBatch, describeConsumed } from './describe.js';
import { LagTracker } from './lag.js';
import { type ResolvedConsumerSettings, resolveConsumerSettings } from './options.js';
import { delegateTo } from './proxy.js';
import type {
  KafkaConsumerLike,
  KafkaConsumerOptions,
  KafkaEachBatchPayloadLike,
  KafkaEachMessagePayloadLike,
  KafkaInstrumentationEventLike,
  KafkaRunConfigLike,
} from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

type Handler<P> = (this: unknown, payload: P) => Promise<void>;

interface ConsumerState {
  telemetry: MessagingTelemetry;
  settings: ResolvedConsumerSettings;
  groupId: string | undefined;
  lag: LagTracker;
}

function traceEachMessage(
  state: ConsumerState,
  config: object,
  handler: Handler<KafkaEachMessagePayloadLike>,
): Handler<KafkaEachMessagePayloadLike> {
  return (payload) => {
    let description: MessageDescription;
    try {
      const { topic, partition, message } = payload;
      description = describeConsumed(
        topic,
        partition,
        message,
        state.groupId,
        state.settings.messageKeyAttribute,
      );
      state.lag.sawTopic(topic);
    } catch (error) {
      warnOnce(`${PACKAGE_NAME}: eachMessage telemetry`, error);
      return handler.call(config, payload);
    }
    return state.telemetry.process(description, () => handler.call(config, payload));
  };
}

function traceEachBatch(
  state: ConsumerState,
  config: object,
  handler: Handler<KafkaEachBatchPayloadLike>,
): Handler<KafkaEachBatchPayloadLike> {
  return (payload) => {
    let batchDescription: MessageDescription;
    let descriptions: MessageDescription[];
    try {
      const { topic, partition, messages, highWatermark } = payload.batch;
      const group = state.groupId;
      const withKey = state.settings.messageKeyAttribute;
      descriptions = messages.map((m) => describeConsumed(topic, partition, m, group, withKey));
      batchDescription = describeBatch(topic, partition, group);
      const last = messages[messages.length - 1];
      if (last) state.lag.recordBatch(topic, partition, highWatermark, last.offset);
    } catch (error) {
      warnOnce(`${PACKAGE_NAME}: eachBatch telemetry`, error);
      return handler.call(config, payload);
    }
    return state.telemetry.processBatch(batchDescription, descriptions, (scope) => {
      registerBatchScope(payload, payload.batch.messages, scope);
      return handler.call(config, payload);
    });
  };
}

function traceRunConfig(state: ConsumerState, config: KafkaRunConfigLike): KafkaRunConfigLike {
  const { eachMessage, eachBatch } = config;
  // A copy: the caller's config object is never modified. kafkajs prefers eachMessage when
  // both are given; so does the copy, since both are wrapped.
  return {
    ...config,
    ...(typeof eachMessage === 'function' && {
      eachMessage: traceEachMessage(state, config, eachMessage),
    }),
    ...(typeof eachBatch === 'function' && {
      eachBatch: traceEachBatch(state, config, eachBatch),
    }),
  };
}

function learnGroupId(consumer: KafkaConsumerLike, state: ConsumerState): void {
  const event = consumer.events?.GROUP_JOIN;
  if (state.groupId !== undefined || typeof consumer.on !== 'function') return;
  if (typeof event !== 'string') return;
  try {
    consumer.on(event, (e: KafkaInstrumentationEventLike) => {
      const groupId = (e?.payload as { groupId?: unknown } | undefined)?.groupId;
      if (typeof groupId === 'string' && groupId !== '') state.groupId ??= groupId;
    });
  } catch (error) {
    warnOnce(`${PACKAGE_NAME}: consumer events`, error);
  }
}

/**
 * Returns a traced view of a kafkajs consumer: `run({ eachMessage })` runs each message in
 * a `process <topic>` CONSUMER span whose parent is the producer's span; `run({ eachBatch
 * })` runs each batch in one `process <topic>` span with a link per message, and
 * {@link runInMessageContext} gives each message its own context. Every payload function
 * (`heartbeat`, `resolveOffset`, `commitOffsetsIfNecessary`, `isRunning`, `pause`, ...) is
 * the client's own. `stop` and `disconnect` also stop the lag gauge. The consumer itself
 * is not modified.
 *
 * @example
 * const consumer = traceConsumer(kafka.consumer({ groupId }), { groupId });
 * await consumer.run({ eachMessage: async ({ message }) => handle(message) });
 */
export function traceConsumer<C extends KafkaConsumerLike>(
  consumer: C,
  options?: KafkaConsumerOptions,
): C {
  const telemetry = new MessagingTelemetry(
    { name: PACKAGE_NAME, version: PACKAGE_VERSION },
    options,
  );
  const settings = resolveConsumerSettings(options);
  const state: ConsumerState = {
    telemetry,
    settings,
    groupId: settings.groupId,
    lag: undefined as unknown as LagTracker,
  };
  state.lag = new LagTracker(telemetry, settings, () => state.groupId);
  learnGroupId(consumer, state);

  const overrides: Record<string, unknown> = {
    run: (config?: KafkaRunConfigLike, ...rest: unknown[]) => {
      let traced = config;
      try {
        if (config && typeof config === 'object') traced = traceRunConfig(state, config);
        state.lag.start(consumer);
      } catch (error) {
        warnOnce(`${PACKAGE_NAME}: run telemetry`, error);
      }
      return (consumer.run as (...args: unknown[]) => Promise<void>).call(
        consumer,
        traced,
        ...rest,
      );
    },
  };
  for (const name of ['stop', 'disconnect'] as const) {
    const original = consumer[name];
    if (typeof original !== 'function') continue;
    overrides[name] = async (...args: unknown[]) => {
      try {
        return await (original as (...a: unknown[]) => Promise<void>).apply(consumer, args);
      } finally {
        state.lag.stop();
      }
    };
  }
  return delegateTo(consumer, overrides);
}
