import { createRequire } from 'node:module';
import { getCorrelationId, isTracingSuppressed } from '@baton/core';
import {
  countMessageSpans,
  createTestTelemetry,
  type MetricPoint,
  type SpanFacts,
  spanFacts,
  sumMetric,
  waitFor,
} from '@baton/testing';
import { context, propagation, trace } from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { isWrapped } from '@opentelemetry/instrumentation';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';
import {
  BATON,
  CONTRIB,
  consumerOf,
  ownerOf,
  type PeerReport,
  type Publisher,
  publisherOf,
  runPeer,
  type Seen,
  type Side,
} from './coexistence/amqp-sides.js';

// Baton beside OpenTelemetry's contrib amqplib instrumentation on the real RabbitMQ: every
// combination of who instruments the producer and the consumer, counted per message with
// one rule (countMessageSpans). This process has contrib on, registered before amqplib is
// loaded; 'baton' sides run in a peer process without it (coexistence/amqp-peer.mjs).

const url = await brokerOrSkip('rabbitmq');
const telemetry = createTestTelemetry({ registerGlobal: true });
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);
const contrib = new AmqplibInstrumentation();
contrib.setTracerProvider(telemetry.tracerProvider);
// Loaded with require after contrib is enabled, as an application with the SDK loaded first.
const amqp = createRequire(import.meta.url)('amqplib') as typeof import('amqplib');

const N = 4;
const HERE: Side[] = ['contrib', 'both', 'both, contrib mode'];
const ALL: Side[] = [...HERE, 'baton'];
interface Combination {
  producer: Side;
  consumer: Side;
  queue: string;
  ids: string[];
}
const pairs: Array<Pick<Combination, 'producer' | 'consumer'>> = [
  ...ALL.flatMap((producer) => ALL.map((consumer) => ({ producer, consumer }))),
  // The test of the test: a wrapper Baton cannot see doubles the spans, and the count says so.
  { producer: 'hidden', consumer: 'both' },
  { producer: 'both', consumer: 'hidden' },
];
const combinations: Combination[] = pairs
  .filter(({ producer, consumer }) => producer !== 'baton' || consumer !== 'baton')
  .map((sides, index) => ({
    ...sides,
    queue: uniqueName(`baton-coexist-${index}`),
    ids: Array.from({ length: N }, (_, i) => `c${index}-m${i}`),
  }));

interface Published {
  traceId: string;
  confirmCallback?: { suppressed: boolean; inCallerSpan: boolean };
}

describe.skipIf(!url)('amqplib beside contrib, on RabbitMQ', () => {
  let connection: ChannelModel;
  let admin: Channel;
  let peer: PeerReport;
  const seen = new Map<string, Seen>();
  const published = new Map<string, Published>();
  let spans: SpanFacts[];
  let points: MetricPoint[];

  async function consumeHere(side: Side, queues: string[]) {
    const channel = await consumerOf(connection, side);
    for (const queue of queues) {
      await channel.consume(queue, (message) => {
        if (message === null) return;
        const headers = message.properties.headers ?? {};
        seen.set(String(message.properties.messageId), {
          id: String(message.properties.messageId),
          traceId: trace.getActiveSpan()?.spanContext().traceId,
          traceparent: headers.traceparent === undefined ? undefined : String(headers.traceparent),
          correlationId:
            headers['x-correlation-id'] === undefined
              ? undefined
              : String(headers['x-correlation-id']),
          handlerCorrelationId: getCorrelationId(),
        });
        if (side !== 'both, contrib mode') channel.ack(message);
      });
    }
  }

  // Even messages: `publish` on a plain channel; odd: `sendToQueue` on a confirm channel,
  // whose callback must run in the caller's context, not suppressed.
  function publishHere(publisher: Publisher, queue: string, ids: string[]) {
    const tracer = trace.getTracer('test');
    ids.forEach((id, i) => {
      tracer.startActiveSpan(`request ${id}`, { root: true }, (root) => {
        const entry: Published = { traceId: root.spanContext().traceId };
        published.set(id, entry);
        const body = Buffer.from(id);
        if (i % 2 === 0) publisher.plain.publish('', queue, body, { messageId: id });
        else {
          publisher.confirm.sendToQueue(queue, body, { messageId: id }, () => {
            entry.confirmCallback = {
              suppressed: isTracingSuppressed(context.active()),
              inCallerSpan:
                trace.getActiveSpan()?.spanContext().spanId === root.spanContext().spanId,
            };
          });
        }
        root.end();
      });
    });
  }

  beforeAll(async () => {
    connection = await amqp.connect(url as string, {
      clientProperties: { connection_name: `baton-coexist-${process.pid}` },
    });
    admin = await connection.createChannel();
    // The guard: counting spans on a channel contrib did not patch would prove nothing.
    expect(isWrapped(admin.publish)).toBe(true);
    expect(isWrapped(admin.consume)).toBe(true);
    expect(isWrapped(admin.ack)).toBe(true);
    for (const { queue } of combinations) {
      await admin.assertQueue(queue, { arguments: { 'x-expires': 60_000 } });
    }
    const consumersHere = [...HERE, 'hidden' as const];
    for (const side of consumersHere) {
      await consumeHere(
        side,
        combinations.filter((c) => c.consumer === side).map((c) => c.queue),
      );
    }
    const peerRun = runPeer({
      url: url as string,
      consume: combinations
        .filter((c) => c.consumer === 'baton')
        .map((c) => ({ queue: c.queue, n: N })),
      produce: combinations
        .filter((c) => c.producer === 'baton')
        .map(({ queue, ids }) => ({ queue, ids })),
    });
    const publishers = new Map<Side, Publisher>();
    for (const combination of combinations.filter((c) => c.producer !== 'baton')) {
      let publisher = publishers.get(combination.producer);
      if (publisher === undefined) {
        publisher = await publisherOf(connection, combination.producer);
        publishers.set(combination.producer, publisher);
      }
      publishHere(publisher, combination.queue, combination.ids);
    }
    for (const publisher of publishers.values()) await publisher.rawConfirm.waitForConfirms();
    peer = await peerRun;
    for (const entry of peer.seen) seen.set(entry.id, entry);
    for (const { id, traceId } of peer.published) published.set(id, { traceId });
    const expected = combinations.filter((c) => c.consumer !== 'baton').length * N;
    await waitFor(() => seen.size >= expected + peer.seen.length, {
      timeoutMs: 20_000,
      message: 'every delivery in this process',
    }).catch((e) => {
      const missing = combinations.flatMap((c) =>
        c.ids.filter((id) => !seen.has(id)).map((id) => `${id} ${c.producer}>${c.consumer}`),
      );
      throw new Error(`${e.message}: missing ${missing.join(', ')}`);
    });
    spans = [...telemetry.spans().map(spanFacts), ...peer.spans];
    points = await telemetry.metricPoints();
  }, 60_000);

  afterAll(async () => {
    for (const { queue } of combinations) await admin?.deleteQueue(queue).catch(() => {});
    await connection?.close();
    contrib.disable();
    await telemetry.shutdown();
    propagation.disable();
  });

  it('runs the peer process without contrib, and contrib patched this one', () => {
    expect(peer.contribPatched).toBe(false);
  });

  it.each(combinations)(
    'producer $producer, consumer $consumer',
    ({ producer, consumer, queue, ids }) => {
      const doubled = producer === 'hidden' || consumer === 'hidden';
      for (const id of ids) {
        const sent = published.get(id);
        const delivered = seen.get(id);
        const count = countMessageSpans(spans, {
          traceId: sent?.traceId ?? '',
          traceparent: delivered?.traceparent,
        });
        if (doubled) {
          // What Baton did before coexistence: two of a kind, contrib's traceparent on the wire.
          expect(count, id).toMatchObject(
            producer === 'hidden'
              ? { producers: 2, wire: CONTRIB }
              : { producers: 1, consumers: 2 },
          );
          continue;
        }
        expect(count, id).toEqual({
          producers: 1,
          consumers: 1,
          wire: ownerOf(producer),
          producerScopes: [ownerOf(producer)],
          consumerScopes: [ownerOf(consumer)],
        });
        expect(delivered?.traceId, `${id} handled in its producer's trace`).toBe(sent?.traceId);
        if (producer !== 'contrib') expect(delivered?.correlationId, id).toBeDefined();
        if (consumer !== 'contrib' && producer !== 'contrib') {
          expect(delivered?.handlerCorrelationId, id).toBe(delivered?.correlationId);
        }
        if (sent?.confirmCallback !== undefined) {
          expect(sent.confirmCallback, id).toEqual({
            suppressed: false,
            inCallerSpan: producer !== 'contrib',
          });
        }
      }
      if (doubled) return;
      // Contrib's amqplib instrumentation records no metrics: Baton counts wherever it runs.
      const sentPoints = producer === 'baton' ? peer.metrics : points;
      const consumedPoints = consumer === 'baton' ? peer.metrics : points;
      const at = { 'messaging.destination.name': queue };
      expect(sumMetric(sentPoints, 'messaging.client.sent.messages', at)).toBe(
        producer === 'contrib' ? 0 : N,
      );
      expect(sumMetric(consumedPoints, 'messaging.client.consumed.messages', at)).toBe(
        consumer === 'contrib' ? 0 : N,
      );
      // Time in queue needs Baton's publish-time header: a contrib producer sends none.
      expect(sumMetric(consumedPoints, 'baton.consumer.time_in_queue', at)).toBe(
        consumer === 'contrib' || producer === 'contrib' ? 0 : N,
      );
    },
  );

  it('traces a get by Baton alone (contrib does not wrap get), after a producer span of its own', async () => {
    const queue = uniqueName('baton-coexist-get');
    await admin.assertQueue(queue, { arguments: { 'x-expires': 60_000 } });
    const publisher = await publisherOf(connection, 'both');
    const getter = await consumerOf(connection, 'both');
    publishHere(publisher, queue, ['get-m0']);
    const message = await waitFor(async () => (await getter.get(queue)) || undefined, {
      message: 'a message to get',
    });
    getter.ack(message);
    await admin.deleteQueue(queue);
    const traceId = published.get('get-m0')?.traceId;
    const all = telemetry.spans().map(spanFacts);
    expect(
      countMessageSpans(all, {
        traceId: traceId ?? '',
        traceparent: String(message.properties.headers?.traceparent),
      }),
    ).toMatchObject({ producers: 1, consumers: 0, wire: BATON });
    const receive = all.filter((s) => s.name === `receive ${queue}`);
    expect(receive.map((s) => s.scope)).toEqual([BATON]);
    expect(all.filter((s) => s.scope === CONTRIB && s.traceId === traceId)).toEqual([]);
  });
});
