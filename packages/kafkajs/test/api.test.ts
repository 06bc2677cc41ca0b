import { getCorrelationId, resetWarnings, withCorrelationId } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { diag, SpanKind, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  batchMessageContext,
  runInMessageContext,
  traceConsumer,
  traceHandler,
  traceProducer,
} from '../src/index.js';
import { type FakeConsumer, FakeKafka } from './fake-kafka.js';

const processSpans = (t: TestTelemetry) => t.spans().filter((s) => s.kind === SpanKind.CONSUMER);
const warnings = (warn: { mock: { calls: unknown[][] } }) =>
  warn.mock.calls.map(([message]) => String(message));

describe('the @baton/kafkajs API', () => {
  let telemetry: TestTelemetry;
  let kafka: FakeKafka;
  let consumer: FakeConsumer | undefined;
  beforeEach(() => {
    telemetry = createTestTelemetry();
    kafka = new FakeKafka();
    resetWarnings();
  });
  afterEach(async () => {
    await consumer?.disconnect();
    consumer = undefined;
    await telemetry.shutdown();
    vi.restoreAllMocks();
  });
  const options = () => ({
    ...telemetry.providers,
  });

  async function sendThree() {
    const producer = traceProducer(kafka.producer(), options());
    for (const id of ['c-1', 'c-2', 'c-3']) {
      await withCorrelationId(id, () => producer.send({ topic: 't', messages: [{ value: id }] }));
    }
    return telemetry.spans().filter((s) => s.kind === SpanKind.PRODUCER);
  }

  it('names the consumer group with consumerGroup, over what GROUP_JOIN says', async () => {
    await sendThree();
    consumer = traceConsumer(kafka.consumer({ groupId: 'client-group' }), {
      ...options(),
      consumerGroup: 'named-group',
    });
    await consumer.subscribe({ topics: ['t'] });
    await consumer.run({ eachMessage: async () => {} });
    await waitFor(() => processSpans(telemetry).length === 3);
    for (const span of processSpans(telemetry)) {
      expect(span.attributes['messaging.consumer.group.name']).toBe('named-group');
    }
  });

  it('still takes groupId, with one deprecation warning from @baton/kafkajs', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    await sendThree();
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), { ...options(), groupId: 'old' });
    traceConsumer(kafka.consumer({ groupId: 'g2' }), { groupId: 'old-2' });
    await consumer.subscribe({ topics: ['t'] });
    await consumer.run({ eachMessage: async () => {} });
    await waitFor(() => processSpans(telemetry).length === 3);
    expect(processSpans(telemetry)[0]?.attributes['messaging.consumer.group.name']).toBe('old');
    const deprecations = warnings(warn).filter((m) => m.includes('groupId'));
    expect(deprecations).toEqual([expect.stringMatching(/^@baton\/kafkajs: .*consumerGroup/)]);
  });

  it('traces an eachMessage handler given to an untraced consumer with traceHandler', async () => {
    const [send] = await sendThree();
    consumer = kafka.consumer({ groupId: 'g' });
    await consumer.subscribe({ topics: ['t'] });
    const seen: Array<{ traceId?: string; correlationId?: string }> = [];
    const failure = new RangeError('first one fails');
    let failed = false;
    const handler = traceHandler(
      async ({ message }: { message: { value: Buffer | null } }) => {
        seen.push({
          traceId: trace.getActiveSpan()?.spanContext().traceId,
          correlationId: getCorrelationId(),
        });
        if (!failed && message.value?.toString() === 'c-1') {
          failed = true;
          throw failure;
        }
      },
      { ...options(), consumerGroup: 'handler-group' },
    );
    await consumer.run({ eachMessage: handler });
    await waitFor(() => processSpans(telemetry).length === 4);
    expect(consumer.crashes).toEqual([failure]); // the handler's error reached kafkajs unchanged
    expect(seen[0]).toEqual({ traceId: send?.spanContext().traceId, correlationId: 'c-1' });
    const [first] = processSpans(telemetry);
    expect(first?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(first?.attributes).toMatchObject({
      'messaging.destination.name': 't',
      'messaging.consumer.group.name': 'handler-group',
      'error.type': 'RangeError',
    });
  });

  it('runs code in a batch message’s own context with runInMessageContext(message, fn)', async () => {
    const sends = await sendThree();
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await consumer.subscribe({ topics: ['t'] });
    const seen: Array<{ traceId?: string; correlationId?: string }> = [];
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          await runInMessageContext(message, async () => {
            seen.push({
              traceId: trace.getActiveSpan()?.spanContext().traceId,
              correlationId: getCorrelationId(),
            });
          });
        }
      },
    });
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual(
      sends.map((send, i) => ({
        traceId: send.spanContext().traceId,
        correlationId: `c-${i + 1}`,
      })),
    );
  });

  it('keeps runInMessageContext(payload, message, fn) and batchMessageContext working, deprecated', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const sends = await sendThree();
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), options());
    await consumer.subscribe({ topics: ['t'] });
    const ids: Array<string | undefined> = [];
    await consumer.run({
      eachBatch: async (payload) => {
        for (const message of payload.batch.messages) {
          ids.push(runInMessageContext(payload, message, () => getCorrelationId()));
        }
        ids.push(trace.getSpanContext(batchMessageContext(payload, 2) ?? ({} as never))?.spanId);
      },
    });
    await waitFor(() => ids.length === 4);
    expect(ids).toEqual(['c-1', 'c-2', 'c-3', sends[2]?.spanContext().spanId]);
    const deprecations = warnings(warn).filter((m) => m.includes('deprecated'));
    expect(deprecations).toEqual([
      expect.stringMatching(/^@baton\/kafkajs: runInMessageContext\(payload, message, fn\)/),
      expect.stringMatching(/^@baton\/kafkajs: batchMessageContext/),
    ]);
  });

  it('gives hooks kafkajs’s own record, message and batch in info.message', async () => {
    const published: unknown[] = [];
    const consumed: unknown[] = [];
    const hooks = {
      publishHook: (_span: unknown, info: { message: unknown }) =>
        void published.push(info.message),
      consumeHook: (_span: unknown, info: { message: unknown }) => void consumed.push(info.message),
    };
    const producer = traceProducer(kafka.producer(), { ...options(), ...hooks });
    const record = { topic: 't', messages: [{ value: 'one' }] };
    const topicMessages = { topic: 't', messages: [{ value: 'two' }, { value: 'three' }] };
    await producer.send(record);
    await producer.sendBatch({ topicMessages: [topicMessages] });
    expect(published).toEqual([record, topicMessages]);
    expect(published[0]).toBe(record);
    expect(published[1]).toBe(topicMessages);

    const handled: unknown[] = [];
    consumer = traceConsumer(kafka.consumer({ groupId: 'g', maxBatchSize: 3 }), {
      ...options(),
      ...hooks,
    });
    await consumer.subscribe({ topics: ['t'] });
    await consumer.run({ eachMessage: async ({ message }) => void handled.push(message) });
    await waitFor(() => handled.length === 3);
    expect(consumed).toHaveLength(3);
    for (const [i, message] of consumed.entries()) expect(message).toBe(handled[i]);

    await consumer.disconnect();
    consumed.length = 0;
    const batches: unknown[] = [];
    consumer = traceConsumer(kafka.consumer({ groupId: 'batch-group' }), {
      ...options(),
      ...hooks,
    });
    await consumer.subscribe({ topics: ['t'] });
    await consumer.run({ eachBatch: async ({ batch }) => void batches.push(batch) });
    await waitFor(() => batches.length === 1);
    expect(consumed).toHaveLength(1);
    expect(consumed[0]).toBe(batches[0]);
  });

  it('prefixes its own diagnostics with @baton/kafkajs', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const fake = kafka.consumer({ groupId: 'g' });
    let captured: ((payload: unknown) => Promise<void>) | undefined;
    fake.run = async (config) => {
      captured = config?.eachMessage as never;
    };
    const traced = traceConsumer(fake, { ...options(), consumerGroup: 'g' });
    await traced.run({ eachMessage: async () => {} });
    await captured?.(null);
    expect(warnings(warn)).not.toEqual([]);
    for (const message of warnings(warn)) expect(message).toMatch(/^@baton\/kafkajs: /);
  });
});
