import { createGroupConsumer, type GroupConsumer, traceProducer } from '@baton/ioredis';
import { type ConformanceHarness, runConformanceSuite } from '@baton/testing/conformance';
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';

const url = await brokerOrSkip('redis');

if (url) {
  runConformanceSuite({
    name: '@baton/ioredis',
    onHandlerError: 'redeliver',
    async createHarness(options): Promise<ConformanceHarness> {
      const stream = uniqueName('baton-conformance');
      const group = 'conformance';
      const redis = new Redis(url);
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
} else {
  describe.skip('@baton/ioredis conformance (no Redis)', () => {
    it('needs Redis', () => {});
  });
}
