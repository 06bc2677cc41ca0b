import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createConsumer, type StreamConsumer, traceProducer } from '@baton/ioredis';
import { ensureContextManager, waitFor } from '@baton/testing';
import { type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import { groupInfo, REDIS_CLIENTS } from './redis-clients.js';

// Entries through the group consumer with 5% of handlers failing once: 100,000 with the
// client npm installs today (ioredis 6), 10,000 with the others, to keep `npm test` short on a
// 2-core machine (about 25 s and 4 s each). BATON_REDIS_LOAD_ENTRIES=100000 runs every client
// with that many (a soak run can ask for more).
const url = await brokerOrSkip('redis');
const FULL = 100_000;
const entriesFor = (name: string) =>
  Number(process.env.BATON_REDIS_LOAD_ENTRIES) || (name === 'ioredis 6 (RESP3)' ? FULL : 10_000);
const failsOnce = (n: number) => n % 20 === 7;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** Counts ended spans without keeping them (keeping 200,000 spans would be the leak). */
class CountingProcessor implements SpanProcessor {
  sends = 0;
  processes = 0;
  failedFirstDeliveries = 0;
  succeededSecondDeliveries = 0;
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if (span.kind === SpanKind.PRODUCER) this.sends += 1;
    if (span.kind !== SpanKind.CONSUMER) return;
    this.processes += 1;
    const count = span.attributes['baton.message.delivery_count'];
    const failed = span.status.code === SpanStatusCode.ERROR;
    if (failed && count === 1) this.failedFirstDeliveries += 1;
    if (!failed && count === 2) this.succeededSecondDeliveries += 1;
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

describe.skipIf(!url).each(REDIS_CLIENTS)('@baton/ioredis under load with $name', (client) => {
  const TOTAL = entriesFor(client.name);
  const FAILING = Array.from({ length: TOTAL }, (_, n) => n).filter(failsOnce).length;
  let redis: Redis;
  let consumer: StreamConsumer | undefined;
  const stream = uniqueName('baton-redis-load');
  const group = 'load';

  beforeAll(() => {
    ensureContextManager();
    redis = client.create(url!);
  });
  afterAll(async () => {
    await consumer?.stop();
    await redis.del(stream, `${stream}:dead-letter`);
    await redis.quit();
  });

  it(`handles ${TOTAL} entries with 5% failing once: none lost, only the failed twice, memory flat`, async () => {
    const spans = new CountingProcessor();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [spans] });
    // Fixed-size records per entry number, allocated before the run.
    const sendSpanIds = new BigUint64Array(TOTAL);
    const deliveries = new Uint8Array(TOTAL);
    let handled = 0;
    let unlinked = 0;
    const producer = traceProducer(redis, {
      tracerProvider,
      // The hook's message is the XADD arguments: stream, '*', 'n', n, ...
      publishHook: (span, { message }) => {
        sendSpanIds[Number((message as unknown[])[3])] = BigInt(`0x${span.spanContext().spanId}`);
      },
    });
    consumer = createConsumer(redis, {
      tracerProvider,
      stream,
      consumerGroup: group,
      createGroup: true,
      groupStartId: '0',
      count: 200,
      claimIdleMs: 200,
      onError: () => {},
      eachMessage: (entry) => {
        const n = Number(entry.fields.n!.toString());
        const process = trace.getActiveSpan() as (Span & ReadableSpan) | undefined;
        const parent = process?.parentSpanContext;
        const tied =
          parent !== undefined &&
          BigInt(`0x${parent.spanId}`) === sendSpanIds[n] &&
          parent.traceId === process?.spanContext().traceId;
        if (!tied) unlinked += 1;
        deliveries[n] = (deliveries[n] ?? 0) + 1;
        if (failsOnce(n) && deliveries[n] === 1) throw new Error(`entry ${n} fails once`);
        handled += 1;
      },
    });
    await consumer.start();

    const sending = (async () => {
      for (let batch = 0; batch < TOTAL; batch += 1000) {
        const pipeline = producer.pipeline();
        for (let n = batch; n < Math.min(batch + 1000, TOTAL); n++) {
          pipeline.xadd(stream, '*', 'n', String(n));
        }
        await pipeline.exec();
      }
    })();
    // The heap once the runner is warm and a fifth of the entries went through.
    await waitFor(() => handled >= TOTAL / 5, { timeoutMs: 60_000, message: 'a fifth handled' });
    const heapEarly = heapAfterGc();
    await sending;
    await waitFor(() => handled === TOTAL, {
      timeoutMs: 120_000,
      intervalMs: 50,
      message: `all ${TOTAL} entries handled`,
    });
    await waitFor(async () => Number((await groupInfo(redis, stream))?.pending) === 0, {
      message: 'every entry acknowledged',
    });
    expect(Number((await groupInfo(redis, stream))?.lag)).toBe(0);
    expect(await redis.xlen(`${stream}:dead-letter`)).toBe(0);

    // Exactly the failed ones came back (at-least-once), nothing else twice, none lost.
    const wrong = { lost: 0, notRedelivered: 0, duplicated: 0 };
    for (let n = 0; n < TOTAL; n++) {
      const times = deliveries[n]!;
      if (times === 0) wrong.lost += 1;
      else if (failsOnce(n) && times === 1) wrong.notRedelivered += 1;
      else if (times > (failsOnce(n) ? 2 : 1)) wrong.duplicated += 1;
    }
    expect(wrong).toEqual({ lost: 0, notRedelivered: 0, duplicated: 0 });
    expect(unlinked).toBe(0);
    await waitFor(() => spans.processes === TOTAL + FAILING);
    expect(spans.sends).toBe(TOTAL);
    expect(spans.failedFirstDeliveries).toBe(FAILING);
    expect(spans.succeededSecondDeliveries).toBe(FAILING);

    // Nothing per entry is kept after its XACK: the heap does not grow with the count.
    // (A leak of 32 bytes per entry would add 2.5 MB over the last 80,000 of 100,000.)
    const growth = heapAfterGc() - heapEarly;
    if (process.env.BATON_REDIS_LOAD_REPORT)
      console.info(`${client.name}: heap ${heapEarly} -> +${growth}`);
    expect(growth).toBeLessThan(TOTAL * 0.8 * 32);
  }, 180_000);
});
