import {
  createConsumer,
  runInMessageContext,
  type StreamConsumer,
  traceProducer,
} from '@baton/ioredis';
import { type ConformanceHarness, runConformanceSuite } from '@baton/testing/conformance';
import { describe, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { REDIS_CLIENTS } from './redis-clients.js';

const url = await brokerOrSkip('redis');

// The suite against every ioredis variant (5; 6 with RESP3; 6 with RESP3 maps as objects),
// per entry (eachMessage) and per read (eachBatch, each entry handled in its own context).
for (const client of url ? REDIS_CLIENTS : []) {
  for (const delivery of ['message', 'batch'] as const) {
    runConformanceSuite({
      name: `@baton/ioredis with ${client.name} (${delivery === 'message' ? 'eachMessage' : 'eachBatch'})`,
      onHandlerError: 'redeliver',
      delivery,
      capabilities: { publishRepeated: true },
      async createHarness(options): Promise<ConformanceHarness> {
        const stream = uniqueName('baton-conformance');
        const redis = client.create(url!);
        const traced = traceProducer(redis, options);
        let consumer: StreamConsumer | undefined;
        return {
          async publish(body) {
            await traced.xadd(stream, '*', 'body', body);
          },
          async publishRaw(body, headers) {
            await redis.xadd(stream, '*', 'body', body, ...Object.entries(headers).flat());
          },
          async publishRepeated(body, headers) {
            const fields = Object.entries(headers).flatMap(([name, values]) =>
              values.flatMap((value) => [name, value]),
            );
            await redis.xadd(stream, '*', 'body', body, ...fields);
          },
          async startConsumer(handler) {
            const common = {
              ...options,
              stream,
              consumerGroup: 'conformance',
              createGroup: true,
              groupStartId: '0',
              claimIdleMs: 100,
              blockMs: 1000,
              fieldEncoding: 'utf8' as const,
            };
            consumer =
              delivery === 'message'
                ? createConsumer(redis, {
                    ...common,
                    eachMessage: (entry) => handler(entry.fields.body ?? ''),
                  })
                : createConsumer(redis, {
                    ...common,
                    eachBatch: async (entries) => {
                      for (const entry of entries) {
                        await runInMessageContext(entry, () => handler(entry.fields.body ?? ''));
                      }
                    },
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
}
if (!url) {
  describe.skip('@baton/ioredis conformance (no Redis)', () => {
    it('needs Redis', () => {});
  });
}
