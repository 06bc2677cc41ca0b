import { resetWarnings } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { diag, type TracerProvider } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { traceConsumer, traceProducer } from '../src/index.js';
import { type FakeConsumer, FakeKafka } from './fake-kafka.js';

describe('telemetry failures never reach user code', () => {
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

  const throwingProvider: TracerProvider = {
    getTracer: () => ({
      startSpan: () => {
        throw new Error('tracer bug');
      },
      startActiveSpan: () => {
        throw new Error('tracer bug');
      },
    }),
  };

  it('sends and delivers when the tracer throws', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const producer = traceProducer(kafka.producer(), { tracerProvider: throwingProvider });
    await producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.sendBatch({ topicMessages: [{ topic: 't', messages: [{ value: 'c' }] }] });
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), {
      tracerProvider: throwingProvider,
    });
    await consumer.subscribe({ topics: ['t'] });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(`${message.value}`) });
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(warn).toHaveBeenCalled();
  });

  it('delivers when the consumer’s event API throws', async () => {
    await kafka.producer().send({ topic: 't', messages: [{ value: 'a' }] });
    const fake = kafka.consumer({ groupId: 'g' });
    fake.on = () => {
      throw new Error('events not supported');
    };
    consumer = traceConsumer(fake, { tracerProvider: telemetry.tracerProvider });
    await consumer.subscribe({ topics: ['t'] });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(`${message.value}`) });
    await waitFor(() => seen.length === 1);
    expect(telemetry.spans()).toHaveLength(1);
  });

  it('hands odd payloads to the handler untouched', async () => {
    const handled: unknown[] = [];
    const fake = kafka.consumer({ groupId: 'g' });
    let captured: ((p: unknown) => Promise<void>) | undefined;
    fake.run = async (config) => {
      captured = config?.eachMessage as never;
    };
    const traced = traceConsumer(fake, { tracerProvider: telemetry.tracerProvider });
    await traced.run({ eachMessage: async (payload) => void handled.push(payload) });
    const odd = {
      topic: 't',
      partition: 0,
      message: { offset: 'x', timestamp: 'later', headers: 7 },
    };
    await captured?.(odd);
    await captured?.(null);
    expect(handled).toEqual([odd, null]);
    expect(handled[0]).toBe(odd); // the client's own payload object, not a copy
  });

  it('falls back to the defaults for invalid options, with a warning', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const traced = traceConsumer(kafka.consumer({ groupId: 'g' }), {
      consumerGroup: 42 as never,
      lagIntervalMs: -5,
      messageKeyAttribute: 'yes' as never,
      lagAdmin: {} as never,
    });
    expect(warn.mock.calls.map(([m]) => m)).toEqual([
      expect.stringContaining('@baton/kafkajs: ignoring invalid option consumerGroup=42'),
      expect.stringContaining('messageKeyAttribute=yes'),
      expect.stringContaining('lagIntervalMs=-5'),
      expect.stringContaining('lagAdmin'),
    ]);
    await traced.disconnect();
  });
});
