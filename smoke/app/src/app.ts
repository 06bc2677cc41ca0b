// What a user writes after installing the packed tarballs: an OpenTelemetry SDK, a pino
// logger with Baton's mixin, and a producer and a consumer over the real Redis and RabbitMQ.
// For each bus it checks what the user would look at: one trace from the request to the
// consumer (send -> process), and log lines on both sides carrying that trace_id and the
// request's correlation_id. One line per check; exit code 1 when any fails.
import { traceChannel } from '@baton/amqplib';
import { edgeContext, runWithContext } from '@baton/core';
import { createConsumer, traceProducer } from '@baton/ioredis';
import { createLogger } from '@baton/pino';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
// Written by the harness for each OpenTelemetry line: sdk-trace-base 2.x or sdk-trace 3.x.
import { createTracerProvider, InMemorySpanExporter } from './sdk.js';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const provider = createTracerProvider(exporter);
trace.setGlobalTracerProvider(provider);
const tracer = trace.getTracer('baton-smoke');

type LogLine = Record<string, unknown>;
const lines: LogLine[] = [];
const logger = createLogger(
  { name: 'baton-smoke', base: null },
  { write: (text: string) => void lines.push(JSON.parse(text) as LogLine) },
);

const runId = `baton-smoke-${process.pid}-${Date.now().toString(36)}`;
let failures = 0;
function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures += 1;
}

const reported = new Set<string>();
function reportOnce(message: string): void {
  if (reported.has(message)) return;
  reported.add(message);
  console.log(`       ${message}`);
}

/** Resolves when `condition` holds, rejects after `ms` saying what never happened. */
async function waitUntil(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Publishes one message the way a request handler would (an edge with a correlation id and
 * a server span), waits until the consumer has handled it, then checks spans and logs.
 */
async function roundTrip(bus: string, publish: () => Promise<unknown>): Promise<void> {
  const correlationId = `${runId}-${bus}`;
  const traceId = await runWithContext(edgeContext({ 'x-correlation-id': correlationId }), () =>
    tracer.startActiveSpan(`POST /${bus}`, { kind: SpanKind.SERVER }, async (span) => {
      logger.info({ bus }, 'publishing');
      await publish();
      span.end();
      return span.spanContext().traceId;
    }),
  );
  const inTrace = () =>
    exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const consumerSpan = () => inTrace().find((s) => s.kind === SpanKind.CONSUMER);
  await waitUntil(() => consumerSpan() !== undefined, 10_000, `a ${bus} process span`);

  const send = inTrace().find((s) => s.kind === SpanKind.PRODUCER);
  const processed = consumerSpan();
  check(send !== undefined, `${bus}: "${send?.name}" (PRODUCER) in trace ${traceId}`);
  check(
    processed !== undefined &&
      send !== undefined &&
      processed.parentSpanContext?.spanId === send.spanContext().spanId,
    `${bus}: "${processed?.name}" (CONSUMER) is a child of the send span, same trace`,
  );
  const logged = lines.filter((line) => line.bus === bus);
  const correlated =
    logged.map((line) => line.msg).join(',') === 'publishing,consumed' &&
    logged.every((l) => l.trace_id === traceId && l.correlation_id === correlationId);
  check(
    correlated,
    `${bus}: ${logged.length} pino lines (${logged.map((l) => l.msg).join(', ')}) carry trace_id ${traceId} and correlation_id ${correlationId}`,
  );
  if (!correlated) for (const line of logged) console.log(`       logged: ${JSON.stringify(line)}`);
}

async function overRedis(): Promise<void> {
  const redis = traceProducer(new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379'));
  const stream = `${runId}:orders`;
  const consumer = createConsumer(redis, {
    stream,
    consumerGroup: 'smoke',
    createGroup: true,
    eachMessage: async () => {
      logger.info({ bus: 'redis' }, 'consumed');
    },
    // A failing read would otherwise only show up as the missing process span.
    onError: (error, info) => reportOnce(`redis consumer ${info.operation}: ${String(error)}`),
  });
  await consumer.start();
  try {
    await roundTrip('redis', () => redis.xadd(stream, '*', 'orderId', '42'));
  } finally {
    await consumer.stop();
    await redis.del(stream);
    redis.disconnect();
  }
}

async function overRabbitMq(): Promise<void> {
  const connection = await amqp.connect(
    process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672',
    { clientProperties: { connection_name: runId } },
  );
  try {
    const channel = traceChannel(await connection.createConfirmChannel());
    const queue = `${runId}.orders`;
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true });
    await channel.consume(queue, (message) => {
      if (message === null) return;
      logger.info({ bus: 'rabbitmq' }, 'consumed');
      channel.ack(message);
    });
    await roundTrip('rabbitmq', async () => {
      channel.sendToQueue(queue, Buffer.from(JSON.stringify({ orderId: '42' })));
      await channel.waitForConfirms();
    });
    await channel.close();
  } finally {
    await connection.close();
  }
}

const deadline = setTimeout(() => {
  console.log('  FAIL the app did not finish within 60 s');
  process.exit(1);
}, 60_000);
for (const [bus, scenario] of [
  ['redis', overRedis],
  ['rabbitmq', overRabbitMq],
] as const) {
  try {
    await scenario();
  } catch (error) {
    check(false, `${bus}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
await provider.shutdown();
clearTimeout(deadline);
process.exitCode = failures === 0 ? 0 : 1;
