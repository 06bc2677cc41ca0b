import { type Coexistence, getCorrelationId } from '@baton/core';
import {
  countMessageSpans,
  createTestTelemetry,
  type MetricPoint,
  spanFacts,
  sumMetric,
  type TestTelemetry,
  waitFor,
} from '@baton/testing';
import { propagation, SpanKind, trace } from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { isWrapped } from '@opentelemetry/instrumentation';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runInMessageContext, traceConsumer, traceProducer } from '../src/index.js';
import { type FakeConsumedMessage, FakeKafka } from './fake-kafka.js';

// Baton beside OpenTelemetry's contrib kafkajs instrumentation. There is no Kafka broker
// here: contrib's REAL module patch (its public `getModuleDefinitions()[0].patch`) is
// applied to a kafkajs-shaped `Kafka` class whose producers and consumers are the fake's,
// so contrib's own wrappers (shimmer's marks, its spans, its metrics) run as on kafkajs.
// Each side of a combination gets its own class, patched or not.

const CONTRIB = '@opentelemetry/instrumentation-kafkajs';
const BATON = '@baton/kafkajs';
const N = 3;

/** Who instruments one side: contrib alone, Baton alone, or both in one process. */
type Side = 'contrib' | 'baton' | 'both' | 'both, contrib mode';
const SIDES: Side[] = ['contrib', 'baton', 'both', 'both, contrib mode'];
const patched = (side: Side) => side !== 'baton';
const coexistence = (side: Side): Coexistence =>
  side === 'both, contrib mode' ? 'contrib' : 'baton';
/** The one scope whose spans and message metrics a side must show. */
const owner = (side: Side) =>
  side === 'contrib' || side === 'both, contrib mode' ? CONTRIB : BATON;

const contrib = new KafkaJsInstrumentation({ enabled: false });
const [definition] = contrib.getModuleDefinitions();
if (definition?.patch === undefined) throw new Error('contrib kafkajs: no module patch to apply');
let telemetry: TestTelemetry;

beforeAll(() => {
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
});
afterAll(() => propagation.disable());
afterEach(async () => telemetry?.shutdown());

function kafkaClass(broker: FakeKafka, withContrib: boolean) {
  class Kafka {
    producer() {
      return broker.producer();
    }
    consumer(config: { groupId: string }) {
      return broker.consumer(config);
    }
  }
  if (withContrib) definition?.patch?.({ Kafka }, '2.2.4');
  return Kafka;
}

interface Handled {
  traceId: string | undefined;
  traceparent: string | undefined;
  /** `x-correlation-id` on the wire, and the one the handler sees. */
  wireCorrelationId: string | undefined;
  correlationId: string | undefined;
}

interface Setup {
  broker: FakeKafka;
  producer: ReturnType<FakeKafka['producer']>;
  consumer: ReturnType<FakeKafka['consumer']>;
  handled: Map<string, Handled>;
}

function setUp(producerSide: Side, consumerSide: Side): Setup {
  telemetry = createTestTelemetry();
  contrib.setTracerProvider(telemetry.tracerProvider);
  contrib.setMeterProvider(telemetry.meterProvider);
  const broker = new FakeKafka();
  const providers = {
    ...telemetry.providers,
  };
  const rawProducer = new (kafkaClass(broker, patched(producerSide)))().producer();
  const rawConsumer = new (kafkaClass(broker, patched(consumerSide)))().consumer({ groupId: 'g' });
  // The guard: counting spans on a client contrib did not patch would prove nothing.
  expect(isWrapped(rawProducer.send)).toBe(patched(producerSide));
  expect(isWrapped(rawProducer.sendBatch)).toBe(patched(producerSide));
  expect(isWrapped(rawProducer.transaction)).toBe(patched(producerSide));
  expect(isWrapped(rawConsumer.run)).toBe(patched(consumerSide));
  const producer =
    producerSide === 'contrib'
      ? rawProducer
      : traceProducer(rawProducer, { ...providers, coexistence: coexistence(producerSide) });
  const consumer =
    consumerSide === 'contrib'
      ? rawConsumer
      : traceConsumer(rawConsumer, {
          ...providers,
          consumerGroup: 'g',
          coexistence: coexistence(consumerSide),
        });
  return { broker, producer, consumer, handled: new Map() };
}

function note(handled: Map<string, Handled>, message: FakeConsumedMessage): void {
  handled.set(String(message.key), {
    traceId: trace.getActiveSpan()?.spanContext().traceId,
    traceparent: message.headers?.traceparent?.toString(),
    wireCorrelationId: message.headers?.['x-correlation-id']?.toString(),
    correlationId: getCorrelationId(),
  });
}

async function consume(setup: Setup, topics: string[], mode: 'eachMessage' | 'eachBatch') {
  await setup.consumer.subscribe({ topics });
  if (mode === 'eachMessage') {
    await setup.consumer.run({
      eachMessage: async ({ message }) => note(setup.handled, message),
    });
    return;
  }
  await setup.consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        runInMessageContext(message, () => note(setup.handled, message));
      }
    },
  });
}

/** Publishes under one root span per call; returns each message's key and trace. */
async function publishEach(send: (key: string) => Promise<unknown>, keys: string[]) {
  const tracer = telemetry.tracerProvider.getTracer('test');
  const traces = new Map<string, string>();
  for (const key of keys) {
    await tracer.startActiveSpan(`request ${key}`, { root: true }, async (root) => {
      traces.set(key, root.spanContext().traceId);
      await send(key);
      root.end();
    });
  }
  return traces;
}

const scopesOf = (points: MetricPoint[], name: string) => [
  ...new Set(points.filter((p) => p.name === name).map((p) => p.scope)),
];

/** The one rule, per message, plus the message metrics summed over every scope. */
async function expectOncePerMessage(
  setup: Setup,
  traces: Map<string, string>,
  sides: { producer: Side; consumer: Side; mode: 'eachMessage' | 'eachBatch' },
  destinationOf: (key: string) => string | undefined = () => undefined,
) {
  await waitFor(() => setup.handled.size === traces.size, { message: 'every message handled' });
  await setup.consumer.disconnect();
  const spans = telemetry.spans().map(spanFacts);
  for (const [key, traceId] of traces) {
    const handled = setup.handled.get(key);
    const count = countMessageSpans(spans, {
      traceId,
      traceparent: handled?.traceparent,
      destination: destinationOf(key),
    });
    expect(count, key).toEqual({
      producers: 1,
      consumers: 1,
      wire: owner(sides.producer),
      producerScopes: [owner(sides.producer)],
      consumerScopes: [owner(sides.consumer)],
    });
    // contrib's eachBatch runs the handler in its poll span: the gap Baton fills.
    if (sides.consumer !== 'contrib' || sides.mode === 'eachMessage') {
      expect(handled?.traceId, `${key} handled in its own trace`).toBe(traceId);
    }
    if (sides.producer !== 'contrib') expect(handled?.wireCorrelationId).toBeDefined();
    if (sides.consumer !== 'contrib') {
      expect(handled?.correlationId).toBeDefined();
      if (sides.producer !== 'contrib') {
        expect(handled?.correlationId).toBe(handled?.wireCorrelationId);
      }
    }
  }
  const points = await telemetry.metricPoints();
  expect(sumMetric(points, 'messaging.client.sent.messages')).toBe(traces.size);
  expect(scopesOf(points, 'messaging.client.sent.messages')).toEqual([owner(sides.producer)]);
  expect(sumMetric(points, 'messaging.client.consumed.messages')).toBe(traces.size);
  expect(scopesOf(points, 'messaging.client.consumed.messages')).toEqual([owner(sides.consumer)]);
  expect(scopesOf(points, 'messaging.process.duration')).toEqual([owner(sides.consumer)]);
  if (sides.consumer !== 'contrib') {
    expect(sumMetric(points, 'baton.consumer.time_in_queue')).toBe(traces.size);
  }
  return points;
}

const combinations = SIDES.flatMap((producer) => SIDES.map((consumer) => ({ producer, consumer })));

describe.each(['eachMessage', 'eachBatch'] as const)(
  'kafkajs beside contrib, %s: one producer and one consumer span per message',
  (mode) => {
    it.each(combinations)('producer $producer, consumer $consumer', async (sides) => {
      const setup = setUp(sides.producer, sides.consumer);
      const topic = `orders-${mode}`;
      await consume(setup, [topic], mode);
      const keys = Array.from({ length: N }, (_, i) => `m${i}`);
      const traces = await publishEach(
        (key) => setup.producer.send({ topic, messages: [{ key, value: `v-${key}` }] }),
        keys,
      );
      await expectOncePerMessage(setup, traces, { ...sides, mode });
    });
  },
);

describe('kafkajs beside contrib: sendBatch and transactions', () => {
  it.each(SIDES.filter((s) => s !== 'contrib'))(
    'sendBatch over two topics, producer %s',
    async (producerSide) => {
      const setup = setUp(producerSide, 'baton');
      await consume(setup, ['a', 'b'], 'eachMessage');
      const traces = new Map<string, string>();
      for (const [key, traceId] of await publishEach(
        (key) =>
          setup.producer.sendBatch({
            topicMessages: [
              { topic: 'a', messages: [{ key: `${key}-a`, value: '1' }] },
              { topic: 'b', messages: [{ key: `${key}-b`, value: '2' }] },
            ],
          }),
        ['m0', 'm1'],
      )) {
        traces.set(`${key}-a`, traceId);
        traces.set(`${key}-b`, traceId);
      }
      await expectOncePerMessage(
        setup,
        traces,
        { producer: producerSide, consumer: 'baton', mode: 'eachMessage' },
        (key) => key.slice(-1),
      );
    },
  );

  it.each([
    ['both', [BATON]],
    ['both, contrib mode', [CONTRIB, CONTRIB]],
  ] as const)(
    'a transaction send, producer %s, makes the spans of %j only',
    async (side, scopes) => {
      const setup = setUp(side, 'baton');
      await consume(setup, ['tx'], 'eachMessage');
      const traces = await publishEach(
        async (key) => {
          const transaction = await setup.producer.transaction();
          await transaction.send({ topic: 'tx', messages: [{ key, value: '1' }] });
          await transaction.commit();
        },
        ['m0'],
      );
      await expectOncePerMessage(setup, traces, {
        producer: side,
        consumer: 'baton',
        mode: 'eachMessage',
      });
      // With 'contrib', its INTERNAL `transaction` span stays; with 'baton' nothing of contrib's.
      const producerSide = telemetry
        .spans()
        .filter((s) => s.kind !== SpanKind.CONSUMER && s.name !== 'request m0');
      expect(producerSide.map((s) => s.instrumentationScope.name)).toEqual(scopes);
    },
  );

  it("leaves contrib's per-request operation.duration, under operation names Baton never uses", async () => {
    const setup = setUp('both', 'both');
    await consume(setup, ['r'], 'eachMessage');
    const traces = await publishEach(
      (key) => setup.producer.send({ topic: 'r', messages: [{ key, value: '1' }] }),
      ['m0'],
    );
    const points = await expectOncePerMessage(setup, traces, {
      producer: 'both',
      consumer: 'both',
      mode: 'eachMessage',
    });
    const fromContrib = points.filter((p) => p.scope === CONTRIB);
    expect(new Set(fromContrib.map((p) => p.name))).toEqual(
      new Set(['messaging.client.operation.duration']),
    );
    const names = new Set(fromContrib.map((p) => p.attributes['messaging.operation.name']));
    expect(names.has('Fetch')).toBe(true);
    for (const name of ['send', 'process', 'commit']) expect(names.has(name)).toBe(false);
  });
});
