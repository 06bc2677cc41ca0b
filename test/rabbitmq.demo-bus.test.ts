import { withCorrelationId } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { context, SpanKind, trace } from '@opentelemetry/api';
import amqp from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DemoBus, Payload } from '../examples/user-notification/src/bus.js';
import {
  createRabbitMqBus,
  MAX_DELIVERIES,
} from '../examples/user-notification/src/buses/rabbitmq.js';
import { brokerOrSkip, uniqueName } from './brokers.js';

const url = await brokerOrSkip('rabbitmq');

describe.skipIf(!url)('the demo bus over RabbitMQ', () => {
  let telemetry: TestTelemetry;
  const buses: DemoBus[] = [];
  beforeEach(() => {
    // The demo services use the global providers, as an app with an SDK would.
    telemetry = createTestTelemetry({ registerGlobal: true });
  });
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close().catch(() => {});
    await telemetry.shutdown();
  });

  it('delivers each event to every service group in the publisher trace and retries a throwing handler', async () => {
    const namespace = uniqueName('baton-demo');
    const publisher = await createRabbitMqBus({ namespace, service: 'test' });
    const subscriber = await createRabbitMqBus({ namespace, service: 'test' });
    buses.push(publisher, subscriber);
    const emails: Array<{ payload: Payload; traceId?: string }> = [];
    const audits: Payload[] = [];
    let failedOnce = false;
    await subscriber.subscribe('user.created', 'notification', async (payload) => {
      emails.push({ payload, traceId: trace.getActiveSpan()?.spanContext().traceId });
      if (!failedOnce) {
        failedOnce = true;
        throw new Error('smtp down');
      }
    });
    await subscriber.subscribe('user.created', 'audit', async (payload) => {
      audits.push(payload);
    });
    const root = trace.getTracer('test').startSpan('POST /users');
    await context.with(trace.setSpan(context.active(), root), () =>
      withCorrelationId('demo-1', () => publisher.publish('user.created', { userId: 'u-1' })),
    );
    root.end();
    await waitFor(() => emails.length === 2 && audits.length === 1, { message: 'retry + audit' });
    expect(emails.map((e) => e.payload)).toEqual([{ userId: 'u-1' }, { userId: 'u-1' }]);
    expect(emails.map((e) => e.traceId)).toEqual([
      root.spanContext().traceId,
      root.spanContext().traceId,
    ]);
    await waitFor(() => telemetry.spans().filter((s) => s.kind === SpanKind.CONSUMER).length === 3);
    const retried = telemetry
      .spans()
      .find((s) => s.attributes['baton.rabbitmq.message.death_count'] !== undefined);
    expect(retried?.name).toBe(`process ${namespace}.notification.user.created`);
    // Rejected by the queue, then expired from the retry queue: two dead-letterings.
    expect(retried?.attributes['baton.rabbitmq.message.death_count']).toBe(2);
    expect(retried?.attributes['baton.rabbitmq.message.first_death_reason']).toBe('rejected');
  });

  it('parks a message that fails MAX_DELIVERIES times in <queue>.dead, byte-identical', async () => {
    const namespace = uniqueName('baton-demo');
    const bus = await createRabbitMqBus({ namespace, service: 'test' });
    buses.push(bus);
    const attempts: Payload[] = [];
    await bus.subscribe('user.created', 'doomed', async (payload) => {
      attempts.push(payload);
      throw new Error('always fails');
    });
    await bus.publish('user.created', { userId: 'u-3', name: 'Zoë' });
    const admin = await amqp.connect(url as string);
    try {
      const channel = await admin.createChannel();
      const parked = await waitFor(
        () => channel.get(`${namespace}.doomed.user.created.dead`, { noAck: true }),
        { message: 'the parked copy' },
      );
      if (!parked) throw new Error('nothing parked');
      expect(attempts).toHaveLength(MAX_DELIVERIES);
      expect(
        parked.content.equals(Buffer.from(JSON.stringify({ userId: 'u-3', name: 'Zoë' }))),
      ).toBe(true);
      expect(parked.properties.contentType).toBe('application/json');
      expect(parked.properties.headers?.traceparent).toMatch(/^00-/);
      // Nothing is left cycling: the queue and its retry queue are empty, and stay so.
      const queue = `${namespace}.doomed.user.created`;
      expect((await channel.checkQueue(queue)).messageCount).toBe(0);
      expect((await channel.checkQueue(`${queue}.retry`)).messageCount).toBe(0);
    } finally {
      await admin.close();
    }
  });

  it('closes while a handler is in flight, after that handler finishes and is acked', async () => {
    const namespace = uniqueName('baton-demo');
    const bus = await createRabbitMqBus({ namespace, service: 'test' });
    const queue = `${namespace}.slow.user.created`;
    const order: string[] = [];
    let release: () => void = () => {};
    await bus.subscribe('user.created', 'slow', async () => {
      order.push('handler started');
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      order.push('handler finished');
    });
    await bus.publish('user.created', { userId: 'u-2' });
    await waitFor(() => order.length === 1, { message: 'the handler started' });
    const admin = await amqp.connect(url as string);
    try {
      const channel = await admin.createChannel();
      const closed = bus.close().then(() => order.push('bus closed'));
      // close() has cancelled the consumer: from here it can only wait for the handler.
      await waitFor(async () => (await channel.checkQueue(queue)).consumerCount === 0, {
        message: 'the consumer cancelled',
      });
      order.push('consumer cancelled');
      release();
      await closed;
      expect(order).toEqual([
        'handler started',
        'consumer cancelled',
        'handler finished',
        'bus closed',
      ]);
      // The handled message was acked before the connection closed: it does not come back.
      expect((await channel.checkQueue(queue)).messageCount).toBe(0);
    } finally {
      await admin.close();
    }
  });
});
