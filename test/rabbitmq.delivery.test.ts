import { type AmqplibErrorInfo, type AmqplibOptions, traceChannel } from '@baton/amqplib';
import { getCorrelationId, METRIC_TIME_IN_QUEUE } from '@baton/core';
import { createTestTelemetry, sumMetric, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip } from './brokers.js';
import { declareQueue, drainQueue, readyCount } from './rabbitmq-harness.js';

const url = await brokerOrSkip('rabbitmq');

const FOREIGN_TRACE = '0af7651916cd43dd8448eb211c80319c';
// amqplib decodes a header table named `__proto__` into the headers object's PROTOTYPE, so
// none of what such a table carries is among the message's own headers.

describe.skipIf(!url)('@baton/amqplib delivery guarantees on RabbitMQ', () => {
  let telemetry: TestTelemetry;
  let connection: ChannelModel;
  const options = (extra: AmqplibOptions = {}): AmqplibOptions => ({
    ...telemetry.providers,
    ...extra,
  });
  const named = (name: string) => telemetry.spans().filter((s) => s.name === name);

  beforeEach(async () => {
    telemetry = createTestTelemetry();
    connection = await amqp.connect(url as string);
  });
  afterEach(async () => {
    await connection.close().catch(() => {});
    await telemetry.shutdown();
  });

  it('starts a new trace and correlation id when the context is only inherited through a __proto__ header table', async () => {
    const raw = await connection.createConfirmChannel();
    const q = await declareQueue(raw);
    const headers = JSON.parse(
      `{"__proto__": {"traceparent": "00-${FOREIGN_TRACE}-b7ad6b7169203331-01", "x-correlation-id": "inherited-corr"}}`,
    ) as Record<string, unknown>;
    raw.sendToQueue(q, Buffer.from('stranger'), { headers });
    await raw.waitForConfirms();

    const channel = traceChannel(await connection.createChannel(), options());
    const seen: Array<{ msg: ConsumeMessage; traceId?: string; correlationId?: string }> = [];
    await channel.consume(q, (msg) => {
      if (!msg) return;
      seen.push({
        msg,
        traceId: trace.getActiveSpan()?.spanContext().traceId,
        correlationId: getCorrelationId(),
      });
      channel.ack(msg);
    });
    await waitFor(() => seen.length === 1, { message: 'the delivery' });
    const [delivery] = seen;
    // The premise: amqplib made the table the prototype, so a plain read still finds it.
    const delivered = delivery?.msg.properties.headers as Record<string, unknown>;
    expect(Object.keys(delivered)).toEqual([]);
    expect(delivered['x-correlation-id']).toBe('inherited-corr');

    expect(delivery?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(delivery?.traceId).not.toBe(FOREIGN_TRACE);
    expect(delivery?.correlationId).toMatch(/^[\w-]+$/);
    expect(delivery?.correlationId).not.toBe('inherited-corr');
    const [process] = named(`process ${q}`);
    expect(process?.parentSpanContext).toBeUndefined();
    expect(process?.attributes['baton.correlation_id']).toBe(delivery?.correlationId);
  });

  it("ignores Baton's own headers (publish time, x-death, x-delivery-count) when they are only inherited", async () => {
    const raw = await connection.createConfirmChannel();
    const q = await declareQueue(raw);
    const headers = JSON.parse(
      `{"__proto__": {"timestamp_in_ms": 1000, "x-delivery-count": 1000, "x-first-death-reason": "expired", "x-death": [{"count": 7, "reason": "expired", "queue": "elsewhere"}]}}`,
    ) as Record<string, unknown>;
    raw.sendToQueue(q, Buffer.from('stranger'), { headers });
    await raw.waitForConfirms();

    const errors: AmqplibErrorInfo[] = [];
    const channel = traceChannel(
      await connection.createChannel(),
      options({ ackMode: 'auto', maxDeliveries: 2, onError: (_, info) => errors.push(info) }),
    );
    let attempts = 0;
    await channel.consume(q, () => {
      attempts++;
      if (attempts === 1) throw new Error('fails once');
    });
    await waitFor(() => attempts === 2 && named(`process ${q}`).length === 2, {
      message: 'a redelivery after the first failure',
    });
    // An inherited x-delivery-count of 1000 does not count: the first failure requeues.
    expect(errors.map((e) => [e.operation, e.deliveryCount, e.requeue])).toEqual([
      ['process', 1, true],
    ]);
    for (const span of named(`process ${q}`)) {
      expect(span.attributes['baton.rabbitmq.message.death_count']).toBeUndefined();
      expect(span.attributes['baton.rabbitmq.message.first_death_reason']).toBeUndefined();
      expect(span.attributes['baton.message.delivery_count']).not.toBe(1001);
    }
    // A publish time only inherited is no publish time: no time in queue is recorded.
    expect(sumMetric(await telemetry.metricPoints(), METRIC_TIME_IN_QUEUE)).toBe(0);
  });

  it('acks every handled message with no prefetch and more than 10,000 in flight: nothing comes back on close', async () => {
    const raw = await connection.createConfirmChannel();
    const q = await declareQueue(raw);
    const count = 10_050;
    for (let i = 0; i < count; i++) {
      if (!raw.sendToQueue(q, Buffer.from(`m-${i}`)))
        await new Promise((r) => raw.once('drain', r));
    }
    await raw.waitForConfirms();

    // No SDK: the bookkeeping is the same with or without spans.
    const channel = traceChannel(await connection.createChannel(), { ackMode: 'auto' });
    let delivered = 0;
    let handled = 0;
    let release: () => void = () => {};
    const allDelivered = new Promise<void>((resolve) => {
      release = resolve;
    });
    // No prefetch: the broker pushes everything; every handler waits until all are in flight.
    await channel.consume(q, async (msg) => {
      if (!msg) return;
      delivered++;
      if (delivered === count) release();
      await allDelivered;
      handled++;
    });
    await waitFor(() => handled === count, { timeoutMs: 50_000, message: `${count} handled` });
    await channel.close();
    // Unacked deliveries return to the queue when their channel closes.
    expect(await readyCount(connection, q)).toBe(0);
  });

  it.each([
    ['quorum', { 'x-queue-type': 'quorum' }],
    ['classic', {}],
  ])(
    'dead-letters a poison message on a %s queue after exactly maxDeliveries, byte-identical, reporting each failure',
    async (_, queueArgs) => {
      const admin = await connection.createConfirmChannel();
      const dlq = await declareQueue(admin, {}, 'baton-dlq');
      const q = await declareQueue(admin, {
        ...queueArgs,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': dlq,
      });
      const body = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x41]);
      admin.sendToQueue(q, body, {
        messageId: 'poison-1',
        contentType: 'application/octet-stream',
        priority: 3,
        headers: { app: 'kept', n: 42 },
      });
      await admin.waitForConfirms();

      const reports: Array<{ error: unknown; info: AmqplibErrorInfo }> = [];
      const channel = traceChannel(
        await connection.createChannel(),
        options({
          ackMode: 'auto',
          maxDeliveries: 3,
          onError: (error, info) => reports.push({ error, info }),
        }),
      );
      const handled: ConsumeMessage[] = [];
      await channel.consume(q, (msg) => {
        if (!msg) return;
        handled.push(msg);
        throw new Error(`poison ${handled.length}`);
      });
      const dead = await waitFor(() => channel.get(dlq, { noAck: true }), {
        message: 'the dead-lettered copy',
      });
      if (!dead) throw new Error('no dead letter');
      expect(handled).toHaveLength(3);
      expect(Buffer.compare(dead.content, body)).toBe(0);
      expect(dead.properties.messageId).toBe('poison-1');
      expect(dead.properties.contentType).toBe('application/octet-stream');
      expect(dead.properties.priority).toBe(3);
      expect(dead.properties.headers?.app).toBe('kept');
      expect(dead.properties.headers?.n).toBe(42);
      expect(dead.properties.headers?.['x-first-death-reason']).toBe('rejected');

      expect(reports.map(({ error }) => (error as Error).message)).toEqual([
        'poison 1',
        'poison 2',
        'poison 3',
      ]);
      expect(
        reports.map(({ info }) => [info.operation, info.queue, info.deliveryCount, info.requeue]),
      ).toEqual([
        ['process', q, 1, true],
        ['process', q, 2, true],
        ['process', q, 3, false],
      ]);
      expect(reports.map(({ info }) => info.message)).toEqual(handled);
      expect(await readyCount(connection, q)).toBe(0);
      const processes = named(`process ${q}`);
      expect(processes.map((s) => s.status.code)).toEqual(Array(3).fill(SpanStatusCode.ERROR));
      expect(processes.map((s) => s.attributes['baton.message.delivery_count'])).toEqual([
        undefined,
        2,
        3,
      ]);
    },
  );

  it('reports an auto ack that fails because the channel closed mid-handler, and the message comes back', async () => {
    const channel = traceChannel(
      await connection.createChannel(),
      options({ ackMode: 'auto', onError: (error, info) => reports.push({ error, info }) }),
    );
    const reports: Array<{ error: unknown; info: AmqplibErrorInfo }> = [];
    const q = await declareQueue(channel);
    const order: string[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await channel.consume(q, async (msg) => {
      if (!msg) return;
      order.push('handler started');
      await held;
      order.push('handler finished');
    });
    channel.sendToQueue(q, Buffer.from('in flight'));
    await waitFor(() => order.length === 1, { message: 'the handler started' });
    await channel.close();
    order.push('channel closed');
    release();
    await waitFor(() => reports.length === 1, { message: 'the failed ack reported' });
    expect(order).toEqual(['handler started', 'channel closed', 'handler finished']);
    const [{ error, info } = {} as never] = reports;
    expect((error as Error).message).toContain('the channel closed before the handler finished');
    expect(info.operation).toBe('settle');
    expect(info.operationName).toBe('ack');
    expect(info.queue).toBe(q);
    expect(info.destination).toBe(q);
    expect(info.message.content.toString()).toBe('in flight');

    await waitFor(() => named(`process ${q}`).length === 1);
    const [process] = named(`process ${q}`);
    expect(process?.status.code).toBe(SpanStatusCode.ERROR);
    expect(process?.status.message).toContain('will redeliver');
    const [ack] = named(`ack ${q}`);
    expect(ack?.kind).toBe(SpanKind.CLIENT);
    expect(ack?.status.code).toBe(SpanStatusCode.ERROR);
    expect(ack?.attributes['error.type']).toBe('ChannelClosedError');
    expect(ack?.parentSpanContext?.spanId).toBe(process?.spanContext().spanId);
    // Never acked: the broker has it again.
    expect(await drainQueue(connection, q)).toEqual(['in flight']);
  });
});
