// The rest of the public surface as users call it, type-checked only (no Kafka broker and
// no Redis Cluster here): if one of these stops compiling under the user's strict settings,
// the smoke test says so.
import {
  healthOf,
  traceConsumer as traceAmqpConsumer,
  traceProducer as traceAmqpProducer,
  traceChannel,
  traceHandler,
} from '@baton/amqplib';
import { activeContext, edgeContext, runWithContext } from '@baton/core';
import { createEventBus } from '@baton/event-emitter';
import { traceProducer as traceRedisProducer } from '@baton/ioredis';
import { runInMessageContext, traceConsumer, traceProducer } from '@baton/kafkajs';
import { batonMixin, correlationFields } from '@baton/pino';
import { createTestTelemetry, waitFor } from '@baton/testing';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Cluster, Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';

// traceProducer returns the client's own type, for a Redis and for a Cluster.
export const redisProducer = (redis: Redis): Redis => traceRedisProducer(redis);
export const clusterProducer = (cluster: Cluster): Cluster => traceRedisProducer(cluster);

export const channels = (channel: Channel, confirm: ConfirmChannel) =>
  [traceChannel(channel), traceChannel(confirm)] as const;
export const amqpVerbs = (channel: Channel, confirm: ConfirmChannel) => {
  const consumer: Channel = traceAmqpConsumer(channel, { ackMode: 'auto', onError: () => {} });
  const producer: ConfirmChannel = traceAmqpProducer(confirm);
  const onMessage = traceHandler((msg: ConsumeMessage | null) => msg?.content.length, {
    queue: 'orders',
  });
  return { consumer, producer, onMessage, health: healthOf(consumer) };
};

export async function kafka(client: Kafka): Promise<void> {
  const producer = traceProducer(client.producer());
  const consumer = traceConsumer(client.consumer({ groupId: 'billing' }), { groupId: 'billing' });
  await consumer.run({
    eachBatch: async (payload) => {
      for (const message of payload.batch.messages) {
        await runInMessageContext(payload, message, () =>
          producer.send({ topic: 'billed', messages: [{ value: message.value }] }),
        );
      }
    },
  });
}

type Events = { 'user.registered': { id: string } };
export const bus = createEventBus<Events>({ onHandlerError: ({ error }) => console.error(error) });
bus.subscribe('user.registered', ({ id }) => console.log(id), { name: 'mailer' });

export const logger = pino({ mixin: batonMixin({ baggageKeys: ['tenant_id'] }) });
export const fields = runWithContext(edgeContext({ 'x-correlation-id': 'req-1' }), () =>
  correlationFields(),
);
export const current = activeContext();

export async function testKit(): Promise<void> {
  const telemetry = createTestTelemetry();
  await waitFor(() => telemetry.spans().length > 0, { timeoutMs: 100 });
}
