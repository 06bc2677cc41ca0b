// The public surface of @baton/ioredis as users call it, type-checked (never run) under a
// user's strictest settings by redis.types.test.ts: exactOptionalPropertyTypes, and the
// published declarations (dist/), against ioredis 5 and 6, Redis and Cluster.
import { checkReadiness } from '@baton/core';
import {
  type ConsumerErrorInfo,
  createConsumer,
  healthOf,
  runInMessageContext,
  type StreamEntry,
  traceHandler,
  traceProducer,
} from '@baton/ioredis';
import type { Cluster, Redis } from 'ioredis';
import type { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';

// traceProducer returns the client's own type, for each major and each client class.
export function producers(redis: Redis, cluster: Cluster, redis6: Redis6, cluster6: Cluster6) {
  const traced: Redis = traceProducer(redis);
  const tracedCluster: Cluster = traceProducer(cluster, { metrics: false });
  const traced6: Redis6 = traceProducer(redis6);
  const tracedCluster6: Cluster6 = traceProducer(cluster6);
  return { traced, tracedCluster, traced6, tracedCluster6 };
}

export async function sends(redis: Redis, cluster6: Cluster6): Promise<Array<string | null>> {
  const traced = traceProducer(redis);
  const tracedCluster = traceProducer(cluster6);
  const id = await traced.xadd('orders', 'MAXLEN', '~', 1000, '*', 'orderId', '42');
  const binary = await traced.xadd(Buffer.from('orders'), '*', Buffer.from([0xff]), 7);
  traced.xadd('orders', '*', 'a', '1', (error, reply) => console.log(error, reply));
  await traced.pipeline().xadd('orders', '*', 'a', '1').incr('n').exec();
  await tracedCluster.multi().xadd('{o}orders', '*', 'a', '1').exec();
  return [id, binary];
}

export function consumers(redis: Redis) {
  const perEntry = createConsumer(redis, {
    stream: 'orders',
    consumerGroup: 'billing',
    eachMessage: (entry) => entry.fields.orderId?.toString('hex'),
    onError: (error: unknown, info: ConsumerErrorInfo) => console.log(error, info.operation),
  });
  const batch = createConsumer(redis, {
    stream: 'orders',
    consumerGroup: 'billing',
    fieldEncoding: 'utf8',
    eachBatch: async (entries) => {
      for (const entry of entries) {
        await runInMessageContext(entry, () => entry.fields.orderId?.toUpperCase());
      }
    },
  });
  const ready = checkReadiness([...healthOf(perEntry), ...healthOf(batch)], { maxLag: 100 });
  return ready.ready;
}

export function ownLoop(redis: Redis, cluster: Cluster6) {
  const handle = traceHandler((entry: StreamEntry<string>) => entry.id, {
    consumerGroup: 'billing',
    client: redis,
  });
  traceHandler((entry: StreamEntry<Buffer>) => entry.fields, { client: cluster });
  return handle('orders', ['1-0', ['a', '1']], { deliveryCount: 1 });
}

export function mistakes(redis: Redis) {
  // @ts-expect-error the group option is consumerGroup
  createConsumer(redis, { stream: 'orders', group: 'billing', eachMessage: () => {} });
  // @ts-expect-error traceProducer takes a client with xadd, not a pipeline factory
  traceProducer({ pipeline: () => redis.pipeline() });
}
