import { MessagingTelemetry, type Override, registerHealth, viewOf } from '@baton/core';
import { clientCall } from './coexistence.js';
import { CommitRecorder } from './commits.js';
import { type Handling, traceEachBatch, traceEachMessage } from './handler.js';
import { KafkaConsumerHealth } from './health.js';
import { LagTracker } from './lag.js';
import { resolveConsumerSettings } from './options.js';
import { SCOPE } from './scope.js';
import type {
  KafkaConsumerLike,
  KafkaConsumerOptions,
  KafkaInstrumentationEventLike,
  KafkaRunConfigLike,
} from './types.js';

function traceRunConfig(handling: Handling, config: KafkaRunConfigLike): KafkaRunConfigLike {
  const { eachMessage, eachBatch } = config;
  // A copy: the caller's config object is never modified. kafkajs prefers eachMessage when
  // both are given; so does the copy, since both are wrapped.
  return {
    ...config,
    ...(typeof eachMessage === 'function' && {
      eachMessage: traceEachMessage(handling, eachMessage),
    }),
    ...(typeof eachBatch === 'function' && {
      eachBatch: traceEachBatch(handling, eachBatch),
    }),
  };
}

// kafkajs does not expose the group on the consumer; its GROUP_JOIN event names it.
function learnConsumerGroup(
  consumer: KafkaConsumerLike,
  telemetry: MessagingTelemetry,
  learned: (group: string) => void,
): void {
  const event = consumer.events?.GROUP_JOIN;
  if (typeof consumer.on !== 'function' || typeof event !== 'string') return;
  try {
    consumer.on(event, (e: KafkaInstrumentationEventLike) => {
      const groupId = (e?.payload as { groupId?: unknown } | undefined)?.groupId;
      if (typeof groupId === 'string' && groupId !== '') learned(groupId);
    });
  } catch (error) {
    telemetry.diagnostics.warnOnce('consumer events', error);
  }
}

/**
 * Returns a traced view of a kafkajs consumer, of the same type: `run({ eachMessage })` runs
 * each message in a `process <topic>` CONSUMER span whose parent is the producer's span;
 * `run({ eachBatch })` runs each batch in one `process <topic>` span with a link per
 * message, and `runInMessageContext(message, fn)` gives each message its own context.
 * Offset commits record `messaging.client.operation.duration`. Every payload function
 * (`heartbeat`, `resolveOffset`, `commitOffsetsIfNecessary`, `isRunning`, `pause`, ...) is
 * the client's own, and handler errors reach kafkajs unchanged. `stop` and `disconnect`
 * also stop the lag gauge. The consumer itself is not modified; {@link healthOf} reads its
 * health.
 *
 * @example
 * const consumer = traceConsumer(kafka.consumer({ groupId: 'mailer' }));
 * await consumer.run({ eachMessage: async ({ message }) => handle(message) });
 */
export function traceConsumer<C extends KafkaConsumerLike>(
  consumer: C,
  options?: KafkaConsumerOptions,
): C {
  const telemetry = new MessagingTelemetry(SCOPE, options);
  const settings = resolveConsumerSettings(options);
  let consumerGroup = settings.consumerGroup;
  if (consumerGroup === undefined) {
    learnConsumerGroup(consumer, telemetry, (group) => {
      consumerGroup ??= group;
    });
  }
  const group = () => consumerGroup;
  const lag = new LagTracker(telemetry, settings, group);
  const commits = new CommitRecorder(telemetry, group);
  const health = new KafkaConsumerHealth(group, (topic) => lag.lagOf(topic));
  health.listen(consumer, telemetry);
  const handling: Handling = {
    telemetry,
    messageKeyAttribute: settings.messageKeyAttribute,
    consumerGroup: group,
    onTopic: (topic) => lag.sawTopic(topic),
    onBatch: (topic, partition, highWatermark, lastOffset) =>
      lag.recordBatch(topic, partition, highWatermark, lastOffset),
  };

  const overrides: Record<string, Override> = {
    run: (config?: KafkaRunConfigLike, ...rest: unknown[]) => {
      const { owner, fn: run, contrib } = clientCall(telemetry, consumer, 'run');
      let traced = config;
      try {
        if (config && typeof config === 'object') {
          traced = traceRunConfig(contrib ? { ...handling, contrib } : handling, config);
        }
        lag.start(consumer);
        commits.start(consumer);
        health.ran();
      } catch (error) {
        telemetry.diagnostics.warnOnce('run telemetry', error);
      }
      return run.call(owner, traced, ...rest);
    },
  };
  const subscribe = (consumer as { subscribe?: unknown }).subscribe;
  if (typeof subscribe === 'function') {
    overrides.subscribe = (subscription?: unknown, ...rest: unknown[]) => {
      health.subscribed(subscription);
      return subscribe.call(consumer, subscription, ...rest);
    };
  }
  if (typeof consumer.commitOffsets === 'function') {
    overrides.commitOffsets = commits.commitOffsets(consumer);
  }
  for (const name of ['stop', 'disconnect'] as const) {
    const original = consumer[name];
    if (typeof original !== 'function') continue;
    overrides[name] = async (...args: unknown[]) => {
      try {
        return await (original as (...a: unknown[]) => Promise<void>).apply(consumer, args);
      } finally {
        lag.stop();
        commits.stop();
        health.stopped(name === 'disconnect');
      }
    };
  }
  const view = viewOf(consumer, overrides);
  registerHealth(view, () => health.snapshot());
  return view;
}
