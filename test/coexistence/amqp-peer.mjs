// A service with Baton and WITHOUT OpenTelemetry's contrib amqplib instrumentation, run as
// its own process by test/coexistence.rabbitmq.test.ts (whose process has contrib on). It
// consumes the queues of `plan.consume` with a traced channel, publishes `plan.produce`
// (one root span per message), then prints what it saw as one JSON line and exits.
// Plain JavaScript on the built packages (`npm test` builds them first), so any Node runs it.
import { createRequire } from 'node:module';
import { traceChannel } from '@baton/amqplib';
import { getCorrelationId } from '@baton/core';
import { createTestTelemetry, spanFacts, waitFor } from '@baton/testing';
import { propagation, trace } from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';

const plan = JSON.parse(process.env.COEXIST_PLAN ?? '{}');
const telemetry = createTestTelemetry({ registerGlobal: true });
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);
const amqp = createRequire(import.meta.url)('amqplib');

const connection = await amqp.connect(plan.url, {
  clientProperties: { connection_name: `baton-coexist-peer-${process.pid}` },
});
const raw = await connection.createChannel();
const channel = traceChannel(raw);
// Publishes wait for the broker's confirms: closing the connection drops unsent ones.
const rawPublisher = await connection.createConfirmChannel();
const publisher = traceChannel(rawPublisher, { publishTimeHeader: true });
const seen = [];
let expected = 0;
for (const { queue, n } of plan.consume) {
  expected += n;
  await channel.consume(queue, (message) => {
    if (message === null) return;
    const headers = message.properties.headers ?? {};
    seen.push({
      id: String(message.properties.messageId),
      traceId: trace.getActiveSpan()?.spanContext().traceId,
      traceparent: headers.traceparent === undefined ? undefined : String(headers.traceparent),
      correlationId:
        headers['x-correlation-id'] === undefined ? undefined : String(headers['x-correlation-id']),
      handlerCorrelationId: getCorrelationId(),
    });
    channel.ack(message);
  });
}
const published = [];
const tracer = trace.getTracer('test');
for (const { queue, ids } of plan.produce) {
  for (const id of ids) {
    tracer.startActiveSpan(`request ${id}`, { root: true }, (root) => {
      published.push({ id, traceId: root.spanContext().traceId });
      publisher.publish('', queue, Buffer.from(id), { messageId: id });
      root.end();
    });
  }
}
await rawPublisher.waitForConfirms();
await waitFor(() => seen.length >= expected, { timeoutMs: 20_000, message: 'peer deliveries' });
await connection.close();
process.stdout.write(
  `${JSON.stringify({
    contribPatched: raw.publish.__wrapped === true || raw.consume.__wrapped === true,
    spans: telemetry.spans().map(spanFacts),
    metrics: await telemetry.metricPoints(),
    seen,
    published,
  })}\n`,
);
await telemetry.shutdown();
