import { traceChannel } from '@baton/amqplib';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';

const url = await brokerOrSkip('rabbitmq');

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

  it('handles 10,000 messages with 5% failing once: none lost, only the failed ones twice, every process span under its send span', async () => {
    const connection = await connect();
    const options = {
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
      ackMode: 'auto' as const,
    };
    const producer = traceChannel(await connection.createConfirmChannel(), options);
    const consumer = traceChannel(await connection.createChannel(), options);
    const queue = uniqueName('baton-10k');
    await consumer.assertQueue(queue, { arguments: { 'x-expires': 60_000 } });
    await consumer.prefetch(200);

    const count = 10_000;
    const bodies = Array.from({ length: count }, (_, i) => `m-${i}`);
    const failing = new Set(bodies.filter((_, i) => i % 20 === 0));
    const deliveries = new Map<string, number>();
    const succeeded = new Map<string, number>();
    await consumer.consume(queue, async (msg) => {
      if (!msg) return;
      const body = msg.content.toString();
      const seen = (deliveries.get(body) ?? 0) + 1;
      deliveries.set(body, seen);
      await Promise.resolve();
      if (failing.has(body) && seen === 1) throw new Error('fails once');
      succeeded.set(body, (succeeded.get(body) ?? 0) + 1);
    });
    const nacks: string[] = [];
    const { thrown } = await publishAll(producer, queue, bodies, (body, error) => {
      if (error) nacks.push(body);
    });
    await producer.waitForConfirms();
    expect(thrown).toEqual([]);
    expect(nacks).toEqual([]);

    await waitFor(() => succeeded.size === count, { timeoutMs: 45_000, message: 'all handled' });
    expect([...succeeded.values()].every((n) => n === 1)).toBe(true);
    const twice = [...deliveries].filter(([, n]) => n > 1).map(([body]) => body);
    expect(new Set(twice)).toEqual(failing);
    expect([...deliveries.values()].every((n) => n <= 2)).toBe(true);

    const all = telemetry.spans();
    const sendIds = new Set(
      all.filter((s) => s.kind === SpanKind.PRODUCER).map((s) => s.spanContext().spanId),
    );
    const processes = all.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(sendIds.size).toBe(count);
    expect(processes).toHaveLength(count + failing.size);
    const perSend = new Map<string, number>();
    for (const span of processes) {
      const parent = span.parentSpanContext?.spanId ?? 'none';
      perSend.set(parent, (perSend.get(parent) ?? 0) + 1);
    }
    expect([...perSend.keys()].every((id) => sendIds.has(id))).toBe(true);
    expect(perSend.size).toBe(count);
    expect(processes.filter((s) => s.status.code === SpanStatusCode.ERROR)).toHaveLength(
      failing.size,
    );
    const check = await connection.createChannel();
    expect((await check.checkQueue(queue)).messageCount).toBe(0);
    await check.deleteQueue(queue);
  });

  it('surfaces a connection lost mid-run through amqplib events without hanging or dropping messages', async () => {
    const connection = await connect();
    const options = {
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
      ackMode: 'auto' as const,
    };
    const producer = traceChannel(await connection.createConfirmChannel(), options);
    const consumer = traceChannel(await connection.createChannel(), options);
    const queue = uniqueName('baton-cut');
    await consumer.assertQueue(queue, { arguments: { 'x-expires': 60_000 } });
    await consumer.prefetch(20);
    let consumerClosed = false;
    consumer.on('close', () => {
      consumerClosed = true;
    });
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

    expect(consumerClosed).toBe(true);
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
