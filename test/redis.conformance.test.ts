import { createGroupConsumer, type GroupConsumer, traceProducer } from '@baton/ioredis';
import { type ConformanceHarness, runConformanceSuite } from '@baton/testing/conformance';
import { describe, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { REDIS_CLIENTS } from './redis-clients.js';

const url = await brokerOrSkip('redis');

for (const client of url ? REDIS_CLIENTS : []) {
  runConformanceSuite({
    name: `@baton/ioredis with ${client.name}`,
    onHandlerError: 'redeliver',
    async createHarness(options): Promise<ConformanceHarness> {
      const stream = uniqueName('baton-conformance');
      const group = 'conformance';
      const redis = client.create(url!);
      const producer = traceProducer(redis, options);
      let consumer: GroupConsumer | undefined;
      return {
        async publish(body) {
          await producer.add(stream, { body });
        },
        async publishRaw(body, headers) {
          await redis.xadd(stream, '*', 'body', body, ...Object.entries(headers).flat());
        },
        async startConsumer(handler) {
          consumer = createGroupConsumer(redis, {
            ...options,
            stream,
            group,
            createGroup: true,
            groupStartId: '0',
            claimIdleMs: 100,
            blockMs: 1000,
            fieldEncoding: 'utf8',
            eachEntry: (entry) => handler(entry.fields.body ?? ''),
          });
          await consumer.start();
        },
        async close() {
          await consumer?.stop();
          await redis.del(stream, `${stream}:dead-letter`);
          await redis.quit();
        },
      };
    },
  });
}
if (!url) {
  describe.skip('@baton/ioredis conformance (no Redis)', () => {
    it('needs Redis', () => {});
  });
}
