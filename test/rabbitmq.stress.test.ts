import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { traceChannel } from '@baton/amqplib';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';

const url = await brokerOrSkip('rabbitmq');

// 20,000 by default keeps the RabbitMQ suite well inside CI's budget on 2 cores;
// BATON_RABBITMQ_LOAD=100000 runs the full-size load on demand.
const LOAD = Number(process.env.BATON_RABBITMQ_LOAD) || 20_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Keeps, of each ended span, only what the load test asserts on. */
class SpanLedger implements SpanProcessor {
  readonly sends = new Set<string>();
  readonly processParents: string[] = [];
  failedProcesses = 0;
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if (span.kind === SpanKind.PRODUCER) this.sends.add(span.spanContext().spanId);
    if (span.kind !== SpanKind.CONSUMER) return;
    this.processParents.push(span.parentSpanContext?.spanId ?? 'none');
    if (span.status.code === SpanStatusCode.ERROR) this.failedProcesses++;
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

// Publishes with the client's own back-pressure: wait for 'drain' when publish says so (or
// 'close': a dead channel never drains).
async function publishAll(
  channel: ConfirmChannel,
  queue: string,
  bodies: readonly string[],
  onConfirm: (body: string, error: unknown) => void,
): Promise<{ thrown: string[] }> {
  const thrown: string[] = [];
  for (const [i, body] of bodies.entries()) {
    // Yield now and then, as a real producer would, so consumers and the broker run too.
    if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    try {
      const written = channel.sendToQueue(queue, Buffer.from(body), {}, (error) =>
        onConfirm(body, error),
      );
      if (!written) {
        await new Promise((resolve) => {
          channel.once('drain', resolve);
          channel.once('close', resolve);
        });
      }
    } catch {
      thrown.push(body);
    }
  }
  return { thrown };
}

describe.skipIf(!url)('@baton/amqplib under load and failure', () => {
  let telemetry: TestTelemetry;
  const connections: ChannelModel[] = [];
  const connect = async () => {
    const connection = await amqp.connect(url as string);
    connection.on('error', () => {}); // tests assert on 'close'; an app would log this
    connection.on('close', () => connections.splice(connections.indexOf(connection), 1));
    connections.push(connection);
    return connection;
  };

  beforeEach(() => {
    telemetry = createTestTelemetry();
  });
  afterEach(async () => {
    for (const connection of connections.splice(0)) await connection.close().catch(() => {});
    await telemetry.shutdown();
  });

  it(
    `handles ${LOAD.toLocaleString('en')} messages in auto mode with 5% failing once: none lost, only the failed ones twice, every process span under its send span, no delivery retained`,
    async () => {
      const connection = await connect();
      // Spans are reduced to what the assertions need as they end, so that memory measures
      // Baton and not an in-memory exporter holding every span.
      const spans = new SpanLedger();
      const tracerProvider = new BasicTracerProvider({ spanProcessors: [spans] });
      const options = { tracerProvider, ackMode: 'auto' as const, onError: () => {} };
      const producer = traceChannel(await connection.createConfirmChannel(), options);
      const consumer = traceChannel(await connection.createChannel(), options);
      const queue = uniqueName('baton-load');
      await consumer.assertQueue(queue, { arguments: { 'x-expires': 60_000 } });
      await consumer.prefetch(500);

      const bodies = Array.from({ length: LOAD }, (_, i) => `m-${i}`);
      const failing = new Set(bodies.filter((_, i) => i % 20 === 0));
      const deliveries = new Map<string, number>();
      const notFlagged: string[] = [];
      let succeeded = 0;
      // Every 10th delivery is watched: once settled, nothing of Baton's may still hold it.
      const watched: Array<WeakRef<object>> = [];
      await consumer.consume(queue, async (msg) => {
        if (!msg) return;
        const body = msg.content.toString();
        const seen = (deliveries.get(body) ?? 0) + 1;
        deliveries.set(body, seen);
        if (seen > 1 && !msg.fields.redelivered) notFlagged.push(body);
        if (deliveries.size % 10 === 0 && seen === 1) watched.push(new WeakRef(msg));
        await Promise.resolve();
        if (failing.has(body) && seen === 1) throw new Error('fails once');
        succeeded++;
      });
      const heapBefore = process.memoryUsage().heapUsed;
      const started = performance.now();
      const nacks: string[] = [];
      const { thrown } = await publishAll(producer, queue, bodies, (body, error) => {
        if (error) nacks.push(body);
      });
      await producer.waitForConfirms();
      expect(thrown).toEqual([]);
      expect(nacks).toEqual([]);
      await waitFor(() => succeeded === LOAD, {
        timeoutMs: LOAD * 5,
        message: 'all handled',
      });
      const seconds = (performance.now() - started) / 1000;

      const twice = [...deliveries].filter(([, n]) => n > 1).map(([body]) => body);
      expect(new Set(twice)).toEqual(failing);
      expect([...deliveries.values()].every((n) => n <= 2)).toBe(true);
      expect(notFlagged).toEqual([]);
      expect(spans.sends.size).toBe(LOAD);
      expect(spans.processParents).toHaveLength(LOAD + failing.size);
      const perSend = new Map<string, number>();
      for (const parent of spans.processParents)
        perSend.set(parent, (perSend.get(parent) ?? 0) + 1);
      expect([...perSend.keys()].filter((id) => !spans.sends.has(id))).toEqual([]);
      expect(perSend.size).toBe(LOAD);
      expect(spans.failedProcesses).toBe(failing.size);

      // Settled deliveries are not retained (the settle records went with the settles).
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      const retained = watched.filter((ref) => ref.deref() !== undefined).length;
      const heapAfter = process.memoryUsage().heapUsed;
      console.info(
        `rabbitmq load: ${LOAD} messages (+${failing.size} redeliveries) in ${seconds.toFixed(1)} s; heap ${(heapBefore / 2 ** 20).toFixed(0)} -> ${(heapAfter / 2 ** 20).toFixed(0)} MiB; ${retained} of ${watched.length} watched deliveries still reachable`,
      );
      expect(retained).toBe(0);
      // Closing the channel returns unacked deliveries to the queue: none come back.
      await consumer.close();
      const check = await connection.createChannel();
      expect((await check.checkQueue(queue)).messageCount).toBe(0);
      await check.deleteQueue(queue);
      await tracerProvider.shutdown();
    },
    Math.max(60_000, LOAD * 4),
  );

  it('surfaces a connection lost mid-run through amqplib events without hanging or dropping messages', async () => {
    const connection = await connect();
    const options = {
      ...telemetry.providers,
      ackMode: 'auto' as const,
    };
    const producer = traceChannel(await connection.createConfirmChannel(), options);
    const consumer = traceChannel(await connection.createChannel(), options);
    const queue = uniqueName('baton-cut');
    await consumer.assertQueue(queue, { arguments: { 'x-expires': 60_000 } });
    await consumer.prefetch(20);
    const handled = new Set<string>();
    await consumer.consume(queue, async (msg) => {
      if (msg) handled.add(msg.content.toString());
    });

    const before = Array.from({ length: 2000 }, (_, i) => `cut-${i}`);
    const after = Array.from({ length: 100 }, (_, i) => `late-${i}`);
    const bodies = [...before, ...after];
    const confirmed = new Set<string>();
    const failed = new Set<string>();
    const onConfirm = (body: string, error: unknown) => (error ? failed : confirmed).add(body);
    const closed = new Promise((resolve) => connection.once('close', resolve));
    const published = publishAll(producer, queue, before, onConfirm);
    await waitFor(() => handled.size >= 200, { message: '200 handled before the cut' });
    // Abrupt loss of the socket, as when the network or the broker goes away.
    const socket = (connection as unknown as { connection: { stream: unknown } }).connection
      .stream as { destroy(error: Error): void };
    socket.destroy(new Error('network down'));
    await closed;
    const early = await published;
    // After the close, publish throws amqplib's own error, unchanged.
    let lateError: unknown;
    try {
      producer.sendToQueue(queue, Buffer.from('late'));
    } catch (error) {
      lateError = error;
    }
    expect((lateError as Error).message).toBe('Channel closed');
    const late = await publishAll(producer, queue, after, onConfirm);
    const thrown = [...early.thrown, ...late.thrown, 'late'];
    bodies.push('late');

    // Every publish ends one way or another: confirmed, failed in its callback, or thrown.
    await waitFor(() => confirmed.size + failed.size + thrown.length === bodies.length, {
      message: 'every publish accounted for',
    });
    expect(late.thrown).toEqual(after);
    const sends = telemetry.spans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(sends).toHaveLength(bodies.length);
    const erroredSends = sends.filter((s) => s.status.code === SpanStatusCode.ERROR);
    expect(erroredSends).toHaveLength(failed.size + thrown.length);

    // Every message the broker confirmed was either handled or is still in the queue.
    const again = await connect();
    const drain = await again.createChannel();
    const remaining = new Set<string>();
    for (;;) {
      const msg = await drain.get(queue, { noAck: true });
      if (!msg) break;
      remaining.add(msg.content.toString());
    }
    const lost = [...confirmed].filter((body) => !handled.has(body) && !remaining.has(body));
    expect(lost).toEqual([]);
    await drain.deleteQueue(queue);
  });
});
