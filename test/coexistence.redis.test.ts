import { createRequire } from 'node:module';
import type { Coexistence } from '@baton/core';
import { createConsumer, traceProducer } from '@baton/ioredis';
import { countMessageSpans, createTestTelemetry, spanFacts, waitFor } from '@baton/testing';
import { propagation, SpanKind, trace } from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { isWrapped } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';

// Baton beside OpenTelemetry's contrib ioredis instrumentation on the real Redis. Contrib
// makes database CLIENT spans (one per command), never messaging spans: Baton needs no
// coexistence code here, whatever `coexistence` says. Its `xadd` span nests under Baton's
// send span, and Baton's consume loop runs outside any span, so contrib's default
// `requireParentSpan` keeps its XREADGROUP polls out of traces.

const url = await brokerOrSkip('redis');
const telemetry = createTestTelemetry({ registerGlobal: true });
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);
const contrib = new IORedisInstrumentation();
contrib.setTracerProvider(telemetry.tracerProvider);
// Loaded with require after contrib is enabled, as an application with the SDK loaded first.
const require = createRequire(import.meta.url);
type RedisClass = new (url: string) => Redis;
const CLIENTS: Record<string, RedisClass> = {
  'ioredis 5': (require('ioredis') as { Redis: RedisClass }).Redis,
  'ioredis 6': (require('ioredis6') as { Redis: RedisClass }).Redis,
};
const CONTRIB = '@opentelemetry/instrumentation-ioredis';
const BATON = '@baton/ioredis';
const N = 3;

afterAll(async () => {
  contrib.disable();
  await telemetry.shutdown();
  propagation.disable();
});

describe.skipIf(!url)('ioredis beside contrib, on Redis', () => {
  it.each([
    ['ioredis 5', true, 'baton'],
    ['ioredis 5', false, 'contrib'],
    ['ioredis 6', true, 'contrib'],
    ['ioredis 6', false, 'baton'],
  ] as const)(
    '%s, requireParentSpan %s, coexistence %s: one send and one process span per entry, contrib xadd under the send',
    async (client, requireParentSpan, coexistence: Coexistence) => {
      contrib.setConfig({ requireParentSpan });
      const Redis = CLIENTS[client] as RedisClass;
      // The guard: counting spans on a client contrib did not patch would prove nothing.
      expect(isWrapped(Redis.prototype.sendCommand)).toBe(true);
      const redis = new Redis(url as string);
      const stream = uniqueName('baton-coexist');
      const handled = new Map<string, string | undefined>();
      const consumer = createConsumer(redis, {
        stream,
        consumerGroup: 'g',
        createGroup: true,
        groupStartId: '0',
        coexistence,
        eachMessage: (entry) => {
          handled.set(entry.id, trace.getActiveSpan()?.spanContext().traceId);
        },
      });
      // Started inside an active span: its loop still runs outside it.
      const tracer = trace.getTracer('test');
      await tracer.startActiveSpan('startup', async (span) => {
        await consumer.start();
        span.end();
      });
      const producer = traceProducer(redis, { coexistence });
      const traces = new Map<string, string>();
      for (let i = 0; i < N; i++) {
        await tracer.startActiveSpan(`request ${i}`, { root: true }, async (root) => {
          const id = await producer.xadd(stream, '*', 'n', String(i));
          traces.set(id as string, root.spanContext().traceId);
          root.end();
        });
      }
      await waitFor(() => handled.size === N, { message: 'every entry handled' });
      await consumer.stop();
      const entries = await redis.xrange(stream, '-', '+');
      await redis.del(stream);
      redis.disconnect();

      const spans = telemetry.spans().map(spanFacts);
      for (const [id, fields] of entries) {
        const traceId = traces.get(id) ?? '';
        const traceparent = fields[fields.indexOf('traceparent') + 1];
        expect(countMessageSpans(spans, { traceId, traceparent })).toEqual({
          producers: 1,
          consumers: 1,
          wire: BATON,
          producerScopes: [BATON],
          consumerScopes: [BATON],
        });
        expect(handled.get(id)).toBe(traceId);
        const send = spans.find((s) => s.traceId === traceId && s.kind === SpanKind.PRODUCER);
        const xadds = spans.filter((s) => s.traceId === traceId && s.scope === CONTRIB);
        expect(xadds.map((s) => [s.name, s.parentSpanId])).toEqual([['xadd', send?.spanId]]);
      }
      const fromContrib = spans.filter((s) => s.scope === CONTRIB);
      expect(new Set(fromContrib.map((s) => s.kind))).toEqual(new Set([SpanKind.CLIENT]));
      const polls = fromContrib.filter((s) => s.name.toLowerCase() === 'xreadgroup');
      // Without a parent span required, contrib traces the polls too: as roots of their own.
      if (requireParentSpan) expect(polls).toEqual([]);
      else {
        expect(polls.length).toBeGreaterThan(0);
        for (const poll of polls) expect(poll.parentSpanId).toBeUndefined();
      }
      telemetry.reset();
    },
  );
});
