import { METRIC_SENT_MESSAGES, readFirstHeader, withCorrelationId } from '@baton/core';
import { createTestTelemetry, sumMetric, type TestTelemetry } from '@baton/testing';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { traceProducer } from '../src/index.js';
import { FakeKafka, type FakeMessage } from './fake-kafka.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

function sentHeaders(kafka: FakeKafka, topic?: string) {
  return kafka.sent
    .filter((s) => topic === undefined || s.topic === topic)
    .map((s) => s.message.headers);
}

describe('traceProducer', () => {
  let telemetry: TestTelemetry;
  let kafka: FakeKafka;
  beforeEach(() => {
    telemetry = createTestTelemetry();
    kafka = new FakeKafka();
  });
  afterEach(() => telemetry.shutdown());
  const options = () => ({
    ...telemetry.providers,
  });

  it('sends a batch in one send span whose context every message carries', async () => {
    const producer = traceProducer(kafka.producer(), options());
    await withCorrelationId('corr-1', () =>
      producer.send({
        topic: 'orders',
        messages: [{ value: 'a' }, { value: 'b', headers: { h: 'x' } }, { value: 'c' }],
      }),
    );
    const spans = telemetry.spans();
    expect(spans).toHaveLength(1);
    const [send] = spans;
    expect(send?.name).toBe('send orders');
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'orders',
      'messaging.batch.message_count': 3,
      'baton.correlation_id': 'corr-1',
    });
    const headers = sentHeaders(kafka);
    expect(headers).toHaveLength(3);
    for (const h of headers) {
      expect(readFirstHeader(h, 'traceparent')).toBe(
        `00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`,
      );
      expect(readFirstHeader(h, 'x-correlation-id')).toBe('corr-1');
    }
    expect(headers[1]?.h).toBe('x');
    expect(sumMetric(await telemetry.metricPoints(), METRIC_SENT_MESSAGES)).toBe(3);
  });

  it('puts key, partition and tombstone on the span of a single-message send', async () => {
    const producer = traceProducer(kafka.producer(), options());
    await producer.send({ topic: 't', messages: [{ key: 'user-1', value: null, partition: 0 }] });
    expect(telemetry.spans()[0]?.attributes).toMatchObject({
      'messaging.kafka.message.key': 'user-1',
      'messaging.kafka.message.tombstone': true,
      'messaging.destination.partition.id': '0',
    });
    expect(telemetry.spans()[0]?.attributes['messaging.batch.message_count']).toBeUndefined();
  });

  it('never modifies the caller’s record, messages or headers', async () => {
    const producer = traceProducer(kafka.producer(), options());
    const payload = Buffer.from('body');
    const headerBuffer = Buffer.from('v');
    const record = {
      topic: 't',
      messages: [
        { value: payload, headers: { a: headerBuffer, list: ['1', '2'], traceparent: 'junk' } },
        { value: 'plain' },
      ] as FakeMessage[],
    };
    const before = JSON.stringify(record);
    Object.freeze(record);
    for (const m of record.messages) {
      Object.freeze(m);
      if (m.headers) Object.freeze(m.headers);
    }
    await producer.send(record);
    expect(JSON.stringify(record)).toBe(before); // frozen too: a write would have thrown
    const [first] = kafka.sent;
    expect(first?.message).not.toBe(record.messages[0]);
    expect(first?.message.headers?.a).toBe(headerBuffer); // values pass through as given
    expect(first?.message.headers?.list).toEqual(['1', '2']);
    expect(readFirstHeader(first?.message.headers, 'traceparent')).toMatch(TRACEPARENT);
  });

  it('keeps a traceparent the message already carries and links the send span to it', async () => {
    const producer = traceProducer(kafka.producer(), options());
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await producer.send({ topic: 't', messages: [{ value: 'x', headers: { traceparent: own } }] });
    expect(readFirstHeader(kafka.sent[0]?.message.headers, 'traceparent')).toBe(own);
    expect(readFirstHeader(kafka.sent[0]?.message.headers, 'x-correlation-id')).toMatch(/.+/);
    const [send] = telemetry.spans();
    expect(send?.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
  });

  it('keeps the traceparent of one message in a batch and links the send span to it', async () => {
    const producer = traceProducer(kafka.producer(), options());
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await producer.send({
      topic: 't',
      messages: [{ value: 'x', headers: { traceparent: Buffer.from(own) } }, { value: 'y' }],
    });
    const [send] = telemetry.spans();
    const carried = sentHeaders(kafka).map((h) => readFirstHeader(h, 'traceparent'));
    expect(carried[0]).toBe(own);
    expect(carried[1]).toContain(send?.spanContext().spanId);
    expect(send?.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
  });

  it('traces a multi-topic sendBatch with one sibling send span per topic', async () => {
    const producer = traceProducer(kafka.producer(), options());
    const root = telemetry.tracerProvider.getTracer('t').startSpan('request');
    await context.with(trace.setSpan(context.active(), root), () =>
      producer.sendBatch({
        topicMessages: [
          { topic: 'a', messages: [{ value: '1' }, { value: '2' }] },
          { topic: 'b', messages: [{ value: '3' }] },
        ],
      }),
    );
    root.end();
    const sends = telemetry.spans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(sends.map((s) => s.name).sort()).toEqual(['send a', 'send b']);
    for (const span of sends) {
      expect(span.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      const topic = span.attributes['messaging.destination.name'] as string;
      for (const h of sentHeaders(kafka, topic)) {
        expect(readFirstHeader(h, 'traceparent')).toContain(span.spanContext().spanId);
      }
    }
    const correlation = new Set(sends.map((s) => s.attributes['baton.correlation_id']));
    expect(correlation.size).toBe(1);
    const points = await telemetry.metricPoints();
    expect(sumMetric(points, METRIC_SENT_MESSAGES, { 'messaging.destination.name': 'a' })).toBe(2);
    expect(sumMetric(points, METRIC_SENT_MESSAGES, { 'messaging.destination.name': 'b' })).toBe(1);
  });

  it('traces sends inside a transaction and leaves the rest of the transaction alone', async () => {
    const producer = traceProducer(kafka.producer(), options());
    const tx = await producer.transaction();
    await tx.send({ topic: 't', messages: [{ value: 'in-tx' }] });
    await tx.sendBatch({ topicMessages: [{ topic: 'u', messages: [{ value: 'batched' }] }] });
    expect(kafka.sent).toHaveLength(0);
    expect(tx.isActive()).toBe(true);
    await tx.commit();
    expect(tx.isActive()).toBe(false);
    expect(telemetry.spans().map((s) => s.name)).toEqual(['send t', 'send u']);
    for (const h of sentHeaders(kafka))
      expect(readFirstHeader(h, 'traceparent')).toMatch(TRACEPARENT);
  });

  it('passes every other producer member through', async () => {
    const fake = kafka.producer();
    const producer = traceProducer(fake, options());
    expect(producer.isIdempotent()).toBe(false);
    await producer.connect();
    expect(producer.calls).toBe(fake.calls);
  });

  it('rethrows the client’s error unchanged and marks the send span failed', async () => {
    const fake = kafka.producer();
    const failure = new TypeError('broker said no');
    fake.send = async () => {
      throw failure;
    };
    const producer = traceProducer(fake, options());
    await expect(producer.send({ topic: 't', messages: [{ value: 'x' }] })).rejects.toBe(failure);
    const [send] = telemetry.spans();
    expect(send?.status.code).toBe(SpanStatusCode.ERROR);
    expect(send?.attributes['error.type']).toBe('TypeError');
  });

  it('adds one create span per message when createSpans is on', async () => {
    const producer = traceProducer(kafka.producer(), { ...options(), createSpans: true });
    await producer.send({ topic: 't', messages: [{ value: '1' }, { value: '2', key: 'k' }] });
    const creates = telemetry.spans().filter((s) => s.name === 'create t');
    const [send] = telemetry.spans().filter((s) => s.name === 'send t');
    expect(creates).toHaveLength(2);
    expect(creates[0]?.attributes['messaging.operation.type']).toBe('create');
    expect(creates[1]?.attributes['messaging.kafka.message.key']).toBe('k');
    const carried = sentHeaders(kafka).map((h) => readFirstHeader(h, 'traceparent'));
    expect(carried).toEqual(
      creates.map((c) => `00-${c.spanContext().traceId}-${c.spanContext().spanId}-01`),
    );
    expect(send?.links.map((l) => l.context.spanId).sort()).toEqual(
      creates.map((c) => c.spanContext().spanId).sort(),
    );
  });

  it('propagates context and correlation id without any SDK', async () => {
    const producer = traceProducer(kafka.producer());
    await withCorrelationId('no-sdk', () =>
      producer.send({ topic: 't', messages: [{ value: 'x' }] }),
    );
    expect(readFirstHeader(kafka.sent[0]?.message.headers, 'x-correlation-id')).toBe('no-sdk');
  });

  it('hands a malformed record to the client untouched so the client reports it', async () => {
    const fake = kafka.producer();
    const producer = traceProducer(fake, options());
    const bad = { topic: 't' } as unknown as Parameters<typeof fake.send>[0];
    await expect(producer.send(bad)).rejects.toThrow();
    expect(fake.calls[0]?.arg).toBe(bad);
  });
});
