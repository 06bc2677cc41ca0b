import { getCorrelationId } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { propagation, SpanKind, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { traceConsumer, traceProducer } from '../src/index.js';
import { type FakeConsumer, FakeKafka } from './fake-kafka.js';

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const SPAN_A = 'b7ad6b7169203331';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_B = '00f067aa0ba902b7';

interface Seen {
  traceId?: string;
  parentSpanId?: string;
  tracestate?: string;
  baggage: Record<string, string>;
  correlationId?: string;
}

// Headers are written raw by a plain producer: the fake encodes them the way kafkajs does
// and the consumer receives what kafkajs really hands out (Buffers, arrays of Buffers,
// null values, keys in their original case).
describe('header shapes kafkajs delivers', () => {
  let telemetry: TestTelemetry;
  let kafka: FakeKafka;
  let consumer: FakeConsumer | undefined;
  beforeEach(() => {
    telemetry = createTestTelemetry();
    kafka = new FakeKafka();
  });
  afterEach(async () => {
    await consumer?.disconnect();
    await telemetry.shutdown();
  });

  async function deliver(headers: Record<string, string | Buffer | (string | Buffer)[]>) {
    await kafka.producer().send({ topic: 't', messages: [{ value: 'v', headers }] });
    consumer = traceConsumer(kafka.consumer({ groupId: 'g' }), {
      ...telemetry.providers,
    });
    await consumer.subscribe({ topics: ['t'] });
    const seen: Seen[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        expect(
          Object.values(message.headers).every((v) => v === null || typeof v === 'object'),
        ).toBe(true); // Buffers or arrays, never strings: the shapes under test really reached Baton
        const span = trace.getActiveSpan();
        const baggage: Record<string, string> = {};
        for (const [key, entry] of propagation.getActiveBaggage()?.getAllEntries() ?? []) {
          baggage[key] = entry.value;
        }
        seen.push({
          traceId: span?.spanContext().traceId,
          baggage,
          correlationId: getCorrelationId(),
        });
      },
    });
    await waitFor(() => seen.length === 1);
    await waitFor(() => telemetry.spans().some((s) => s.kind === SpanKind.CONSUMER));
    const process = telemetry.spans().find((s) => s.kind === SpanKind.CONSUMER);
    return {
      ...(seen[0] as Seen),
      parentSpanId: process?.parentSpanContext?.spanId,
      tracestate: process?.parentSpanContext?.traceState?.serialize(),
    };
  }

  it('reads a Buffer traceparent', async () => {
    const seen = await deliver({ traceparent: Buffer.from(`00-${TRACE_A}-${SPAN_A}-01`) });
    expect(seen.traceId).toBe(TRACE_A);
    expect(seen.parentSpanId).toBe(SPAN_A);
  });

  it('uses the first valid traceparent when the header is repeated', async () => {
    const seen = await deliver({
      traceparent: ['garbage', `00-${TRACE_B}-${SPAN_B}-01`, `00-${TRACE_A}-${SPAN_A}-01`],
    });
    expect(seen.traceId).toBe(TRACE_B);
    expect(seen.parentSpanId).toBe(SPAN_B);
  });

  it('uses the first valid correlation id when x-correlation-id is repeated', async () => {
    const seen = await deliver({
      'x-correlation-id': ['not valid\r\n', 'first-valid', 'second-valid'],
    });
    expect(seen.correlationId).toBe('first-valid');
  });

  it('matches header keys in any case', async () => {
    const seen = await deliver({
      TraceParent: `00-${TRACE_A}-${SPAN_A}-01`,
      'X-Correlation-ID': 'mixed-case-7',
    });
    expect(seen.traceId).toBe(TRACE_A);
    expect(seen.correlationId).toBe('mixed-case-7');
  });

  it('joins repeated tracestate and baggage headers', async () => {
    const seen = await deliver({
      traceparent: `00-${TRACE_A}-${SPAN_A}-01`,
      tracestate: ['vendor1=a', 'vendor2=b'],
      baggage: [Buffer.from('tenant_id=acme'), Buffer.from('user_id=u-9')],
    });
    expect(seen.tracestate).toBe('vendor1=a,vendor2=b');
    expect(seen.baggage).toEqual({ tenant_id: 'acme', user_id: 'u-9' });
  });

  it('ignores null header values and unrelated binary headers', async () => {
    const seen = await deliver({
      traceparent: null as unknown as string, // a header with a null value decodes to null
      blob: Buffer.from([0xff, 0x00, 0xfe]),
    });
    expect(seen.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.parentSpanId).toBeUndefined();
    expect(seen.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes binary values, keys and headers through byte for byte', async () => {
    const value = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x0a]);
    const key = Buffer.from([0xc3, 0x28]);
    const blob = Buffer.from([0x00, 0xff, 0xc0, 0xaf]);
    const parts = [Buffer.from([0xe2, 0x82]), Buffer.from([0xa1])];
    const producer = traceProducer(kafka.producer(), { tracerProvider: telemetry.tracerProvider });
    await producer.send({ topic: 'bin', messages: [{ key, value, headers: { blob, parts } }] });
    expect(kafka.sent[0]?.message.value).toBe(value); // the caller's own Buffer, not a copy
    const received: Array<{ key: Buffer | null; value: Buffer | null; headers: unknown }> = [];
    for (const mode of ['eachMessage', 'eachBatch'] as const) {
      const traced = traceConsumer(kafka.consumer({ groupId: mode }), {
        tracerProvider: telemetry.tracerProvider,
      });
      await traced.subscribe({ topics: ['bin'] });
      await traced.run(
        mode === 'eachMessage'
          ? { eachMessage: async ({ message }) => void received.push(message) }
          : { eachBatch: async ({ batch }) => void received.push(...batch.messages) },
      );
      await waitFor(() => received.length === (mode === 'eachMessage' ? 1 : 2));
      await traced.disconnect();
    }
    for (const message of received) {
      expect(message.value?.equals(value)).toBe(true);
      expect(message.key?.equals(key)).toBe(true);
      const headers = message.headers as Record<string, Buffer | Buffer[]>;
      expect((headers.blob as Buffer).equals(blob)).toBe(true);
      expect((headers.parts as Buffer[]).map((b) => [...b])).toEqual(parts.map((b) => [...b]));
    }
  });

  it('skips undefined header values, as other kafkajs-compatible clients may hand out', async () => {
    let captured: ((payload: unknown) => Promise<void>) | undefined;
    const client = {
      run: async (config?: { eachMessage?: (payload: never) => Promise<void> }) => {
        captured = config?.eachMessage as never;
      },
      disconnect: async () => {},
    };
    const traced = traceConsumer(client, { tracerProvider: telemetry.tracerProvider });
    const traceIds: Array<string | undefined> = [];
    await traced.run({
      eachMessage: async () => void traceIds.push(trace.getActiveSpan()?.spanContext().traceId),
    });
    await captured?.({
      topic: 't',
      partition: 0,
      message: {
        key: null,
        value: Buffer.from('v'),
        timestamp: String(Date.now()),
        offset: '0',
        headers: { baggage: undefined, Traceparent: [undefined, `00-${TRACE_A}-${SPAN_A}-01`] },
      },
    });
    expect(traceIds).toEqual([TRACE_A]);
  });
});
