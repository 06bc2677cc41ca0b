import { createTestTelemetry, type TestTelemetry } from '@baton/testing';
import { SpanStatusCode } from '@opentelemetry/api';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { healthOf, traceConsumer, traceProducer } from '../src/index.js';

// The real kafkajs objects, never connected (no network): the traced views keep the
// client's own members working and pass its errors through unchanged.
describe('traced views of real kafkajs clients', () => {
  let telemetry: TestTelemetry;
  const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
  beforeEach(() => {
    telemetry = createTestTelemetry();
  });
  afterEach(() => telemetry.shutdown());

  it('rejects a send on a disconnected producer with kafkajs’s own error', async () => {
    const producer = traceProducer(kafka.producer(), { tracerProvider: telemetry.tracerProvider });
    const error = await producer
      .send({ topic: 't', messages: [{ value: 'x' }] })
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('KafkaJSError');
    expect((error as Error).message).toBe('The producer is disconnected');
    const [send] = telemetry.spans();
    expect(send?.status.code).toBe(SpanStatusCode.ERROR);
    expect(send?.attributes['error.type']).toBe('KafkaJSError');
  });

  it('keeps the producer’s and consumer’s other members', () => {
    const producer = traceProducer(kafka.producer());
    expect(producer.isIdempotent()).toBe(false);
    expect(producer.events.CONNECT).toBe('producer.connect');
    expect(typeof producer.logger().info).toBe('function');
    const consumer = traceConsumer(kafka.consumer({ groupId: 'g' }));
    expect(consumer.paused()).toEqual([]);
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => {});
    expect(typeof remove).toBe('function');
    remove();
  });

  it('has the instrumentation events healthOf listens to', () => {
    const bare = kafka.consumer({ groupId: 'g' });
    for (const name of ['CONNECT', 'DISCONNECT', 'STOP', 'CRASH', 'FETCH', 'GROUP_JOIN'] as const) {
      expect(bare.events[name]).toMatch(/^consumer\./);
    }
    const consumer = traceConsumer(bare);
    expect(healthOf(consumer)).toEqual([]); // not subscribed, not run
  });
});
