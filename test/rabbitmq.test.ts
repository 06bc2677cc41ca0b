import { once } from 'node:events';
import { type AmqplibOptions, routingKeyTemplate, traceChannel } from '@baton/amqplib';
import {
  getCorrelationId,
  METRIC_CONSUMED_MESSAGES,
  METRIC_CONSUMER_LAG,
  METRIC_OPERATION_DURATION,
  METRIC_PROCESS_DURATION,
  METRIC_SENT_MESSAGES,
  METRIC_TIME_IN_QUEUE,
  withCorrelationId,
} from '@baton/core';
import { createTestTelemetry, sumMetric, type TestTelemetry, waitFor } from '@baton/testing';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import amqp, {
  type Channel,
  type ChannelModel,
  type ConsumeMessage,
  type GetMessage,
} from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokerOrSkip, uniqueName } from './brokers.js';

const url = await brokerOrSkip('rabbitmq');
// Queues vanish a minute after their last use, even when a test dies half way.
const EXPIRES = { 'x-expires': 60_000 };

describe.skipIf(!url)('@baton/amqplib against RabbitMQ', () => {
  let telemetry: TestTelemetry;
  let connection: ChannelModel;
  const exchanges: string[] = [];

  const options = (extra: AmqplibOptions = {}): AmqplibOptions => ({
    ...telemetry.providers,
    ...extra,
  });
  const spans = (kind?: SpanKind) =>
    telemetry.spans().filter((s) => kind === undefined || s.kind === kind);
  const named = (name: string) => telemetry.spans().filter((s) => s.name === name);
  const parentOf = (span: ReadableSpan | undefined) => span?.parentSpanContext?.spanId;
  // Process spans of deliveries from queue q, whatever exchange and routing key brought them:
  // semconv names them `{exchange}:{routing key}:{queue}`, just `{queue}` for sendToQueue.
  const processesOf = (q: string) =>
    spans(SpanKind.CONSUMER).filter((s) => s.name === `process ${q}` || s.name.endsWith(`:${q}`));
  // Settles inside the handler are events on the message's process span.
  const settles = (operation: string, q: string) =>
    processesOf(q).flatMap((s) => s.events.filter((e) => e.name === operation));
  const queue = async (channel: Channel, args: Record<string, unknown> = {}) => {
    const name = uniqueName('baton-q');
    await channel.assertQueue(name, { arguments: { ...EXPIRES, ...args } });
    return name;
  };
  const exchange = async (channel: Channel, type: 'direct' | 'topic') => {
    const name = uniqueName(`baton-${type}`);
    await channel.assertExchange(name, type, { autoDelete: false });
    exchanges.push(name);
    return name;
  };

  beforeEach(async () => {
    telemetry = createTestTelemetry();
    connection = await amqp.connect(url as string);
  });
  afterEach(async () => {
    const admin = await connection.createChannel().catch(() => undefined);
    for (const name of exchanges.splice(0)) await admin?.deleteExchange(name).catch(() => {});
    await connection.close().catch(() => {});
    await telemetry.shutdown();
  });

  it('parents the process span to the send span over a direct exchange and records the ack', async () => {
    const channel = traceChannel(
      await connection.createChannel(),
      options({ publishTimeHeader: true }),
    );
    const ex = await exchange(channel, 'direct');
    const q = await queue(channel);
    await channel.bindQueue(q, ex, 'user.created');
    const received: Array<{ msg: ConsumeMessage; traceId?: string; correlationId?: string }> = [];
    await channel.consume(q, (msg) => {
      if (!msg) return;
      received.push({
        msg,
        traceId: trace.getActiveSpan()?.spanContext().traceId,
        correlationId: getCorrelationId(),
      });
      channel.ack(msg);
    });
    const callerHeaders = { app: 'kept' };
    const callerOptions = {
      headers: callerHeaders,
      correlationId: 'rpc-7',
      replyTo: 'rpc-replies',
      messageId: 'm-1',
    };
    const root = telemetry.tracerProvider.getTracer('test').startSpan('request');
    const written = context.with(trace.setSpan(context.active(), root), () =>
      withCorrelationId('corr-direct', () =>
        channel.publish(ex, 'user.created', Buffer.from('hello'), callerOptions),
      ),
    );
    root.end();
    expect(written).toBe(true);
    expect(callerOptions.headers).toBe(callerHeaders);
    expect(callerHeaders).toEqual({ app: 'kept' });

    await waitFor(() => settles('ack', q).length === 1, { message: 'the ack event' });
    const [send] = named(`send ${ex}:user.created`);
    const [process] = named(`process ${ex}:user.created:${q}`);
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(send)).toBe(root.spanContext().spanId);
    expect(send?.attributes['messaging.rabbitmq.destination.routing_key']).toBe('user.created');
    expect(send?.attributes['messaging.message.id']).toBe('m-1');
    expect(process?.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(process)).toBe(send?.spanContext().spanId);
    expect(process?.attributes['baton.rabbitmq.message.redelivered']).toBe(false);
    expect(process?.attributes['messaging.rabbitmq.message.delivery_tag']).toBe(1);

    const [delivery] = received;
    expect(delivery?.traceId).toBe(root.spanContext().traceId);
    expect(delivery?.correlationId).toBe('corr-direct');
    const props = delivery?.msg.properties;
    expect(props?.correlationId).toBe('rpc-7');
    expect(props?.replyTo).toBe('rpc-replies');
    expect(props?.headers?.app).toBe('kept');
    expect(props?.headers?.traceparent).toContain(send?.spanContext().spanId);
    expect(props?.headers?.['x-correlation-id']).toBe('corr-direct');
    expect(typeof props?.headers?.timestamp_in_ms).toBe('number');

    const points = await telemetry.metricPoints();
    expect(sumMetric(points, METRIC_SENT_MESSAGES)).toBe(1);
    expect(
      sumMetric(points, METRIC_CONSUMED_MESSAGES, {
        'messaging.destination.name': `${ex}:user.created:${q}`,
      }),
    ).toBe(1);
    // AMQP's own correlationId is the conversation id; Baton's travels as baton.correlation_id.
    for (const span of [send, process]) {
      expect(span?.attributes['messaging.message.conversation_id']).toBe('rpc-7');
      expect(span?.attributes['baton.correlation_id']).toBe('corr-direct');
      expect(span?.attributes['server.port']).toBe(5672);
      expect(span?.attributes['server.address']).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
    }
    expect(sumMetric(points, METRIC_TIME_IN_QUEUE)).toBe(1);
    expect(
      sumMetric(points, METRIC_OPERATION_DURATION, { 'messaging.operation.name': 'ack' }),
    ).toBe(1);
  });

  it('records a settle span under the process span when the ack comes after the handler returned', async () => {
    const channel = traceChannel(await connection.createChannel(), options());
    const q = await queue(channel);
    const held: ConsumeMessage[] = [];
    await channel.consume(q, (msg) => {
      if (msg) held.push(msg);
    });
    channel.sendToQueue(q, Buffer.from('later'));
    await waitFor(() => named(`process ${q}`).length === 1);
    channel.nack(held[0] as ConsumeMessage, false, false);
    const [process] = named(`process ${q}`);
    const [nack] = named(`nack ${q}`);
    expect(nack?.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(nack)).toBe(process?.spanContext().spanId);
    expect(nack?.attributes['messaging.operation.type']).toBe('settle');
    expect(nack?.attributes['baton.rabbitmq.settle.requeue']).toBe(false);
    expect(process?.events).toEqual([]);
  });

  it('routes over a topic exchange and names the send span exchange:routing key', async () => {
    const channel = traceChannel(await connection.createChannel(), options());
    const ex = await exchange(channel, 'topic');
    const q = await queue(channel);
    await channel.bindQueue(q, ex, 'user.*.eu');
    const traces: string[] = [];
    await channel.consume(q, (msg) => {
      if (!msg) return;
      traces.push(trace.getActiveSpan()?.spanContext().traceId ?? '');
      channel.ack(msg);
    });
    channel.publish(ex, 'user.created.eu', Buffer.from('a'));
    channel.publish(ex, 'user.created.us', Buffer.from('not routed'));
    channel.publish(ex, 'user.deleted.eu', Buffer.from('b'));
    await waitFor(() => processesOf(q).length === 2);
    expect(processesOf(q).map((s) => s.name)).toEqual([
      `process ${ex}:user.created.eu:${q}`,
      `process ${ex}:user.deleted.eu:${q}`,
    ]);
    const sends = spans(SpanKind.PRODUCER).map((s) => s.name);
    expect(sends).toEqual([
      `send ${ex}:user.created.eu`,
      `send ${ex}:user.created.us`,
      `send ${ex}:user.deleted.eu`,
    ]);
    const routed = spans(SpanKind.PRODUCER).filter((s) => !s.name.endsWith('.us'));
    expect(traces).toEqual(routed.map((s) => s.spanContext().traceId));
  });

  it("puts the producer's destination name on the consumer's metrics (the service map's join)", async () => {
    // Time in queue needs the opt-in publish-time header.
    const channel = traceChannel(
      await connection.createChannel(),
      options({ publishTimeHeader: true }),
    );
    const ex = await exchange(channel, 'topic');
    const q = await queue(channel);
    await channel.bindQueue(q, ex, 'user.#');
    await channel.consume(q, (msg) => msg && channel.ack(msg));
    channel.publish(ex, 'user.created', Buffer.from('a'));
    channel.publish(ex, 'user.deleted', Buffer.from('b'));
    channel.sendToQueue(q, Buffer.from('c')); // the default exchange, by queue name
    await waitFor(() => processesOf(q).length === 3, { message: 'three deliveries' });
    const points = await telemetry.metricPoints();
    const labelled = (name: string) =>
      points
        .filter((p) => p.name === name)
        .map((p) => ({
          destination: p.attributes['messaging.destination.name'],
          published: p.attributes['baton.destination.published_name'],
        }))
        .sort((a, b) => String(a.destination).localeCompare(String(b.destination)));
    const expected = [
      { destination: q, published: q },
      { destination: `${ex}:user.created:${q}`, published: `${ex}:user.created` },
      { destination: `${ex}:user.deleted:${q}`, published: `${ex}:user.deleted` },
    ].sort((a, b) => a.destination.localeCompare(b.destination));
    for (const metric of [
      METRIC_CONSUMED_MESSAGES,
      METRIC_PROCESS_DURATION,
      METRIC_TIME_IN_QUEUE,
    ]) {
      expect(labelled(metric), metric).toEqual(expected);
    }
    // Each published name is exactly the destination of the producer's own series.
    const sent = points
      .filter((p) => p.name === METRIC_SENT_MESSAGES)
      .map((p) => p.attributes['messaging.destination.name'])
      .sort();
    expect(sent).toEqual(expected.map((e) => e.published).sort());
    // Not on the producer's series, nor on settle durations.
    for (const p of points.filter((p) => p.name !== METRIC_CONSUMED_MESSAGES)) {
      if (p.name === METRIC_PROCESS_DURATION || p.name === METRIC_TIME_IN_QUEUE) continue;
      expect(p.attributes['baton.destination.published_name'], p.name).toBeUndefined();
    }
  });

  it('gives the published name in its templated form under routingKeyTemplate', async () => {
    const channel = traceChannel(
      await connection.createChannel(),
      options({ destinationTemplate: routingKeyTemplate('user.{id}.created') }),
    );
    const ex = await exchange(channel, 'topic');
    const q = await queue(channel);
    await channel.bindQueue(q, ex, 'user.*.created');
    await channel.consume(q, (msg) => msg && channel.ack(msg));
    for (const id of ['17', '42', '99']) channel.publish(ex, `user.${id}.created`, Buffer.from(id));
    await waitFor(() => processesOf(q).length === 3, { message: 'three deliveries' });
    const points = await telemetry.metricPoints();
    const consumed = points.filter((p) => p.name === METRIC_CONSUMED_MESSAGES);
    // One series for all three ids: bounded by the template, as the producer's.
    expect(consumed.map((p) => p.attributes)).toEqual([
      expect.objectContaining({
        'messaging.destination.template': `${ex}:user.{id}.created:${q}`,
        'baton.destination.published_name': `${ex}:user.{id}.created`,
      }),
    ]);
    expect(consumed[0]?.value).toBe(3);
    const sent = points.filter((p) => p.name === METRIC_SENT_MESSAGES);
    expect(sent.map((p) => p.attributes['messaging.destination.template'])).toEqual([
      `${ex}:user.{id}.created`,
    ]);
  });

  it('names a sendToQueue send after the queue, and counts the message get returns as consumed', async () => {
    const channel = traceChannel(await connection.createChannel(), options());
    const q = await queue(channel);
    channel.sendToQueue(q, Buffer.from('direct to queue'));
    const got = (await waitFor(() => channel.get(q, { noAck: true }))) as GetMessage;
    expect(got.content.toString()).toBe('direct to queue');
    expect(named(`send ${q}`)).toHaveLength(1);
    const points = await telemetry.metricPoints();
    expect(
      sumMetric(points, METRIC_CONSUMED_MESSAGES, {
        'messaging.destination.name': q,
        'messaging.operation.name': 'receive',
      }),
    ).toBe(1);
  });

  it('ends send spans on broker acks and marks a nacked publish as an error', async () => {
    const channel = traceChannel(await connection.createConfirmChannel(), options());
    // A full queue that rejects publishes makes the broker nack for real.
    const q = await queue(channel, { 'x-max-length': 1, 'x-overflow': 'reject-publish' });
    const outcomes: Array<Error | null> = [];
    const record = (error: unknown) => outcomes.push(error as Error | null);
    expect(channel.sendToQueue(q, Buffer.from('fits'), {}, record)).toBe(true);
    expect(channel.sendToQueue(q, Buffer.from('overflows'), {}, record)).toBe(true);
    await channel.waitForConfirms().catch(() => {});
    await waitFor(() => spans(SpanKind.PRODUCER).length === 2);
    expect(outcomes.map((o) => o?.message ?? null)).toEqual([null, 'message nacked']);
    const [acked, nacked] = spans(SpanKind.PRODUCER);
    expect(acked?.status.code).toBe(SpanStatusCode.UNSET);
    expect(nacked?.status.code).toBe(SpanStatusCode.ERROR);
    expect(nacked?.attributes['error.type']).toBe('Error');
    const points = await telemetry.metricPoints();
    expect(sumMetric(points, METRIC_SENT_MESSAGES, { 'error.type': 'Error' })).toBe(1);
  });

  it('runs concurrent handlers with prefetch > 1, each in its own message context', async () => {
    const channel = traceChannel(await connection.createChannel(), options());
    const q = await queue(channel);
    await channel.prefetch(10);
    const count = 20;
    const expected = new Map<string, { traceId: string; correlationId: string }>();
    const tracer = telemetry.tracerProvider.getTracer('test');
    for (let i = 0; i < count; i++) {
      const root = tracer.startSpan(`request-${i}`);
      expected.set(`m-${i}`, { traceId: root.spanContext().traceId, correlationId: `corr-${i}` });
      context.with(trace.setSpan(context.active(), root), () =>
        withCorrelationId(`corr-${i}`, () => channel.sendToQueue(q, Buffer.from(`m-${i}`))),
      );
      root.end();
    }
    // Every handler waits until five run at once, so their contexts interleave; with fewer
    // than five allowed in flight the gate never opens and the test fails.
    let inFlight = 0;
    let open: () => void = () => {};
    const fiveInFlight = new Promise<void>((resolve) => {
      open = resolve;
    });
    const mismatches: string[] = [];
    let handled = 0;
    await channel.consume(q, async (msg) => {
      if (!msg) return;
      inFlight++;
      if (inFlight === 5) open();
      await fiveInFlight;
      const want = expected.get(msg.content.toString());
      if (
        trace.getActiveSpan()?.spanContext().traceId !== want?.traceId ||
        getCorrelationId() !== want?.correlationId
      ) {
        mismatches.push(msg.content.toString());
      }
      inFlight--;
      handled++;
      channel.ack(msg);
    });
    await waitFor(() => handled === count, { message: `${count} handled` });
    expect(mismatches).toEqual([]);
  });

  it('keeps a dead-lettered message in its trace when consumed from the dead-letter queue', async () => {
    const channel = traceChannel(
      await connection.createChannel(),
      options({ ackMode: 'auto', failureMode: 'dead-letter' }),
    );
    const dlx = await exchange(channel, 'direct');
    const dlq = await queue(channel);
    await channel.bindQueue(dlq, dlx, 'failed');
    const q = await queue(channel, {
      'x-dead-letter-exchange': dlx,
      'x-dead-letter-routing-key': 'failed',
    });
    await channel.consume(q, () => {
      throw new Error('cannot handle');
    });
    const fromDlq: string[] = [];
    await channel.consume(dlq, (msg) => {
      if (msg) fromDlq.push(trace.getActiveSpan()?.spanContext().traceId ?? '');
    });
    channel.sendToQueue(q, Buffer.from('doomed'));
    await waitFor(() => processesOf(dlq).length === 1, { message: 'the DLQ delivery' });
    const [send] = spans(SpanKind.PRODUCER);
    const [failed] = named(`process ${q}`);
    // Dead-lettered through its exchange with its routing key, consumed from the DLQ.
    const [dead] = named(`process ${dlx}:failed:${dlq}`);
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(settles('reject', q)[0]?.attributes?.['baton.rabbitmq.settle.requeue']).toBe(false);
    expect(parentOf(dead)).toBe(send?.spanContext().spanId);
    expect(fromDlq).toEqual([send?.spanContext().traceId]);
    expect(dead?.attributes['baton.rabbitmq.message.death_count']).toBe(1);
    expect(dead?.attributes['baton.rabbitmq.message.first_death_reason']).toBe('rejected');
    // The DLQ consumer is auto-acked too: nothing is left behind.
    await waitFor(() => settles('ack', dlq).length === 1);
  });

  it('acks on success and requeues on failure in auto mode, marking the redelivery', async () => {
    const channel = traceChannel(await connection.createChannel(), options({ ackMode: 'auto' }));
    const q = await queue(channel);
    let failedOnce = false;
    const bodies: string[] = [];
    await channel.consume(q, async (msg) => {
      if (!msg) return;
      bodies.push(msg.content.toString());
      if (msg.content.toString() === 'flaky' && !failedOnce) {
        failedOnce = true;
        throw new Error('first attempt fails');
      }
    });
    channel.sendToQueue(q, Buffer.from('ok'));
    channel.sendToQueue(q, Buffer.from('flaky'));
    await waitFor(() => settles('ack', q).length === 2, { message: 'two acks' });
    expect(bodies.sort()).toEqual(['flaky', 'flaky', 'ok']);
    const redelivered = named(`process ${q}`).filter(
      (s) => s.attributes['baton.rabbitmq.message.redelivered'] === true,
    );
    expect(redelivered).toHaveLength(1);
    expect(settles('reject', q)[0]?.attributes?.['baton.rabbitmq.settle.requeue']).toBe(true);
    const check = await connection.createChannel();
    expect((await check.checkQueue(q)).messageCount).toBe(0);
  });

  it('does not settle messages that the handler settled itself in auto mode', async () => {
    const channel = traceChannel(await connection.createChannel(), options({ ackMode: 'auto' }));
    const q = await queue(channel);
    let closed = false;
    channel.on('close', () => {
      closed = true;
    });
    await channel.consume(q, (msg) => {
      if (msg) channel.ack(msg); // a second ack would close the channel (406)
    });
    channel.sendToQueue(q, Buffer.from('self-acked'));
    await waitFor(() => named(`process ${q}`).length === 1);
    // A round trip on the same channel proves it is still open after the delivery.
    await channel.checkQueue(q);
    expect(closed).toBe(false);
    expect(settles('ack', q)).toHaveLength(1);
  });

  it('traces noAck consumers without settling', async () => {
    const channel = traceChannel(await connection.createChannel(), options({ ackMode: 'auto' }));
    const q = await queue(channel);
    let handled = 0;
    await channel.consume(
      q,
      () => {
        handled++;
      },
      { noAck: true },
    );
    channel.sendToQueue(q, Buffer.from('fire and forget'));
    await waitFor(() => named(`process ${q}`).length === 1);
    await channel.checkQueue(q);
    expect(handled).toBe(1);
    expect(spans(SpanKind.CLIENT)).toHaveLength(0);
  });

  it('records a receive span linked to the producer for get, and settles in its trace', async () => {
    const channel = traceChannel(await connection.createChannel(), options());
    const q = await queue(channel);
    channel.sendToQueue(q, Buffer.from('pulled'), { messageId: 'pull-1' });
    await channel.checkQueue(q);
    const msg = (await waitFor(() => channel.get(q))) as GetMessage;
    channel.reject(msg, false);
    await waitFor(() => named(`reject ${q}`).length === 1);
    const [send] = spans(SpanKind.PRODUCER);
    const receives = named(`receive ${q}`);
    const receive = receives.find((s) => s.links.length > 0);
    expect(receive?.kind).toBe(SpanKind.CLIENT);
    expect(receive?.links[0]?.context.spanId).toBe(send?.spanContext().spanId);
    expect(receive?.attributes['messaging.message.id']).toBe('pull-1');
    const [reject] = named(`reject ${q}`);
    expect(reject?.spanContext().traceId).toBe(send?.spanContext().traceId);
    expect(reject?.attributes['baton.rabbitmq.settle.requeue']).toBe(false);
  });

  it('reports queue depth as baton.consumer.lag from a channel of its own', async () => {
    const channel = traceChannel(
      await connection.createChannel(),
      options({ lagConnection: connection, lagIntervalMs: 50 }),
    );
    const q = await queue(channel);
    for (let i = 0; i < 5; i++) channel.sendToQueue(q, Buffer.from(`backlog-${i}`));
    await channel.prefetch(1);
    const held: ConsumeMessage[] = [];
    await channel.consume(q, (msg) => {
      if (msg) held.push(msg); // never acked: 4 stay ready in the queue
    });
    const lagOf = async () =>
      sumMetric(await telemetry.metricPoints(), METRIC_CONSUMER_LAG, {
        'messaging.destination.name': q,
      });
    await waitFor(async () => (await lagOf()) === 4, { message: 'lag 4' });
    for (const msg of held.splice(0)) channel.ack(msg);
    await waitFor(async () => {
      for (const msg of held.splice(0)) channel.ack(msg);
      return (await lagOf()) === 0;
    });
  });

  it('survives a consumed queue being deleted while the lag monitor reads it', async () => {
    const channel = traceChannel(
      await connection.createChannel(),
      options({ lagConnection: connection, lagIntervalMs: 20 }),
    );
    const errors: unknown[] = [];
    channel.on('error', (error) => errors.push(error));
    const doomed = await queue(channel);
    const kept = await queue(channel);
    let cancelled = false;
    await channel.consume(doomed, (msg) => {
      if (msg === null) cancelled = true;
    });
    await channel.consume(kept, (msg) => msg && channel.ack(msg));
    channel.sendToQueue(kept, Buffer.from('one'));
    const admin = await connection.createChannel();
    await admin.deleteQueue(doomed);
    await waitFor(() => cancelled, { message: 'the broker cancelling the consumer' });
    // Several lag reads later the application's channel still works.
    await waitFor(
      async () =>
        sumMetric(await telemetry.metricPoints(), METRIC_CONSUMER_LAG, {
          'messaging.destination.name': kept,
        }) === 0 && settles('ack', kept).length === 1,
    );
    channel.sendToQueue(kept, Buffer.from('two'));
    await waitFor(() => settles('ack', kept).length === 2);
    expect(errors).toEqual([]);
  });

  it('returns the client boolean under back-pressure and passes drain through', async () => {
    const channel = traceChannel(await connection.createChannel(), options());
    const q = await queue(channel, { 'x-max-length': 10 });
    const big = Buffer.alloc(256 * 1024);
    let sent = 0;
    let written = true;
    while (written && sent < 2000) {
      written = channel.sendToQueue(q, big);
      sent++;
    }
    expect(written).toBe(false);
    await once(channel, 'drain');
    expect(spans(SpanKind.PRODUCER)).toHaveLength(sent);
  });
});
