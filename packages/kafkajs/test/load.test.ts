import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { METRIC_CONSUMED_MESSAGES, METRIC_SENT_MESSAGES } from '@baton/core';
import {
  CollectingMetricReader,
  ensureContextManager,
  metricPointsFrom,
  sumMetric,
  waitFor,
} from '@baton/testing';
import { SpanKind } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { traceConsumer, traceProducer } from '../src/index.js';
import { FakeKafka } from './fake-kafka.js';

// 100,000 messages through a traced producer and a traced eachMessage consumer on the fake,
// 5% of the handlers failing once. BATON_KAFKA_LOAD changes the count (a larger soak).
const TOTAL = Number(process.env.BATON_KAFKA_LOAD ?? 100_000);
const PARTITIONS = 4;
const PER_SEND = 1000;
const fails = (index: number) => index % 20 === 7; // 5%

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

// Checks every process span as it ends and keeps nothing but counters.
class ProcessSpanCheck implements SpanProcessor {
  readonly sendSpanOfChunk: string[] = [];
  processSpans = 0;
  untied = 0;
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if (span.kind !== SpanKind.CONSUMER) return;
    this.processSpans++;
    const partition = Number(span.attributes['messaging.destination.partition.id']);
    const offset = Number(span.attributes['messaging.kafka.offset']);
    const index = offset * PARTITIONS + partition;
    const send = this.sendSpanOfChunk[Math.floor(index / PER_SEND)];
    const linked = span.links.some((l) => l.context.spanId === send);
    if (span.parentSpanContext?.spanId !== send || !linked) this.untied++;
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

describe(`${TOTAL} messages on the fake, 5% of handlers failing once`, () => {
  it('loses none, repeats only the failed ones, ties every process span to its send span and keeps no per-message state', {
    timeout: 300_000,
  }, async () => {
    ensureContextManager();
    const check = new ProcessSpanCheck();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [check] });
    const reader = new CollectingMetricReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const options = { tracerProvider, meterProvider };
    const kafka = new FakeKafka({ keepSent: false, dropCommitted: true, retryBackoffMs: 0 });
    kafka.createTopic('load', PARTITIONS);
    const producer = traceProducer(kafka.producer(), {
      ...options,
      // The send span of each call, by the chunk of message indexes it sent.
      publishHook: (span, info) => {
        const first = (info.message as { messages: Array<{ value: string }> }).messages[0];
        check.sendSpanOfChunk[Number(first?.value) / PER_SEND] = span.spanContext().spanId;
      },
    });
    const deliveries = new Uint8Array(TOTAL);
    const consumed: WeakRef<object>[] = [];
    let handled = 0;
    const failure = new Error('first attempt fails'); // one object: the crash list stays small
    const raw = kafka.consumer({ groupId: 'load', maxBatchSize: 500 });
    const consumer = traceConsumer(raw, { ...options, consumerGroup: 'load' });
    await consumer.subscribe({ topics: ['load'] });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const index = Number(message.value?.toString());
        deliveries[index] = (deliveries[index] ?? 0) + 1;
        handled++;
        if (index % 5000 === 0) consumed.push(new WeakRef(message));
        if (fails(index) && deliveries[index] === 1) throw failure;
      },
    });

    const send = async (from: number, to: number) => {
      for (let start = from; start < to; start += PER_SEND) {
        await producer.send({
          topic: 'load',
          messages: Array.from({ length: PER_SEND }, (_, i) => ({
            value: String(start + i),
            partition: (start + i) % PARTITIONS,
          })),
        });
      }
    };
    const committed = () => [...kafka.groupOffsets('load').values()].reduce((a, b) => a + b, 0);
    const warmUp = TOTAL / 5;
    await send(0, warmUp);
    await waitFor(() => committed() === warmUp, { timeoutMs: 120_000, message: 'warm-up' });
    const heapAtWarmUp = heapAfterGc();
    await send(warmUp, TOTAL);
    await waitFor(() => committed() === TOTAL, {
      timeoutMs: 240_000,
      message: `${TOTAL} committed`,
    });
    await consumer.disconnect();
    const heapAtEnd = heapAfterGc();

    const failed = Array.from({ length: TOTAL }, (_, i) => i).filter(fails).length;
    let lost = 0;
    let wrongCount = 0;
    for (let i = 0; i < TOTAL; i++) {
      if (deliveries[i] === 0) lost++;
      if (deliveries[i] !== (fails(i) ? 2 : 1)) wrongCount++;
    }
    expect(lost).toBe(0);
    expect(wrongCount).toBe(0);
    expect(handled).toBe(TOTAL + failed);
    expect(raw.crashes).toHaveLength(failed);
    expect(check.processSpans).toBe(TOTAL + failed);
    expect(check.untied).toBe(0);
    const points = metricPointsFrom((await reader.collect()).resourceMetrics);
    expect(sumMetric(points, METRIC_SENT_MESSAGES)).toBe(TOTAL);
    expect(sumMetric(points, METRIC_CONSUMED_MESSAGES)).toBe(TOTAL + failed);
    // Nothing keeps a handled message alive: Baton holds no per-message state after a batch.
    expect(consumed.filter((ref) => ref.deref() !== undefined)).toEqual([]);
    const growth = heapAtEnd - heapAtWarmUp;
    console.log(
      `kafkajs load: ${TOTAL} messages, ${failed} failed once; heap after GC ${(heapAtWarmUp / 2 ** 20).toFixed(1)} MiB at ${warmUp}, ${(heapAtEnd / 2 ** 20).toFixed(1)} MiB at ${TOTAL} (${(growth / (TOTAL - warmUp)).toFixed(1)} bytes per message)`,
    );
    // The fake's log keeps one array slot per record (8 bytes); Baton should add nothing.
    expect(growth / (TOTAL - warmUp)).toBeLessThan(40);
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  });
});
