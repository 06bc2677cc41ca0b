import { withCorrelationId } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DemoBus, Payload } from '../examples/user-notification/src/bus.js';
import { createRabbitMqBus } from '../examples/user-notification/src/buses/rabbitmq.js';
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
    const publisher = await createRabbitMqBus({ namespace });
    const subscriber = await createRabbitMqBus({ namespace });
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
      .find((s) => s.attributes['messaging.rabbitmq.message.death_count'] !== undefined);
    expect(retried?.name).toBe(`process ${namespace}.notification.user.created`);
    // Rejected by the queue, then expired from the retry queue: two dead-letterings.
    expect(retried?.attributes['messaging.rabbitmq.message.death_count']).toBe(2);
    expect(retried?.attributes['messaging.rabbitmq.message.first_death_reason']).toBe('rejected');
  });

  it('closes while a handler is in flight, after that handler finishes', async () => {
    const namespace = uniqueName('baton-demo');
    const bus = await createRabbitMqBus({ namespace });
    let release: () => void = () => {};
    let finished = false;
    let started = false;
    await bus.subscribe('user.created', 'slow', async () => {
      started = true;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      finished = true;
    });
    await bus.publish('user.created', { userId: 'u-2' });
    await waitFor(() => started, { message: 'the handler started' });
    // The handler finishes well after cancel + connection close would have taken.
    const releaseLater = setTimeout(() => release(), 200);
    await bus.close();
    clearTimeout(releaseLater);
    expect(finished).toBe(true);
  });
});
