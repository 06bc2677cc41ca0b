import { getCorrelationId, injectContext, withCorrelationId } from '@baton/core';
import { createTestTelemetry, expectTraceTree, type TestTelemetry } from '@baton/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventBus, type HandlerErrorInfo } from '../src/index.js';

type Events = { 'user.registered': { id: string }; 'notification.sent': { id: string } };
let telemetry: TestTelemetry;
beforeEach(() => {
  telemetry = createTestTelemetry();
});
afterEach(() => telemetry.shutdown());

const busOptions = () => ({
  tracerProvider: telemetry.tracerProvider,
  meterProvider: telemetry.meterProvider,
});

describe('EventBus', () => {
  it('runs every subscriber asynchronously in a process span under the send span', async () => {
    const bus = createEventBus<Events>(busOptions());
    const seen: string[] = [];
    bus.subscribe(
      'user.registered',
      async ({ id }) => {
        seen.push(`a:${id}`);
      },
      { name: 'notification_service' },
    );
    bus.subscribe('user.registered', ({ id }) => {
      seen.push(`b:${id}`);
    });
    bus.publish('user.registered', { id: 'u1' });
    expect(seen).toEqual([]); // delivery is asynchronous
    await bus.idle();
    expect(seen.sort()).toEqual(['a:u1', 'b:u1']);
    expectTraceTree(telemetry.spans(), {
      name: 'send user.registered',
      kind: SpanKind.PRODUCER,
      children: [
        { name: 'process user.registered', kind: SpanKind.CONSUMER },
        { name: 'process user.registered', kind: SpanKind.CONSUMER },
      ],
    });
    const grouped = telemetry.spans().find((s) => s.attributes['messaging.consumer.group.name']);
    expect(grouped?.attributes['messaging.consumer.group.name']).toBe('notification_service');
  });

  it('chains hops into one trace and keeps the correlation id', async () => {
    const bus = createEventBus<Events>(busOptions());
    const ids: Array<string | undefined> = [];
    bus.subscribe('user.registered', ({ id }) => {
      ids.push(getCorrelationId());
      bus.publish('notification.sent', { id });
    });
    bus.subscribe('notification.sent', () => {
      ids.push(getCorrelationId());
    });
    withCorrelationId('req-1', () => bus.publish('user.registered', { id: 'u2' }));
    await bus.idle();
    expect(ids).toEqual(['req-1', 'req-1']);
    expectTraceTree(telemetry.spans(), {
      name: 'send user.registered',
      children: [
        {
          name: 'process user.registered',
          children: [
            { name: 'send notification.sent', children: [{ name: 'process notification.sent' }] },
          ],
        },
      ],
    });
  });

  it('reports a failing handler on the error channel and keeps the other subscribers running', async () => {
    const failures: HandlerErrorInfo[] = [];
    const bus = createEventBus<Events>({
      ...busOptions(),
      onHandlerError: (info) => failures.push(info),
    });
    const delivered: string[] = [];
    const boom = new RangeError('smtp down');
    bus.subscribe(
      'user.registered',
      async () => {
        throw boom;
      },
      { name: 'mailer' },
    );
    bus.subscribe('user.registered', ({ id }) => {
      delivered.push(id);
    });
    expect(() => bus.publish('user.registered', { id: 'u3' })).not.toThrow();
    await bus.idle();
    expect(delivered).toEqual(['u3']);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.error).toBe(boom);
    expect(failures[0]?.subscriber).toBe('mailer');
    const failed = telemetry.spans().find((s) => s.status.code === SpanStatusCode.ERROR);
    expect(failed?.attributes['error.type']).toBe('RangeError');
  });

  it('survives an error listener that throws', async () => {
    const bus = createEventBus<Events>({
      ...busOptions(),
      onHandlerError: () => {
        throw new Error('listener bug');
      },
    });
    bus.subscribe('user.registered', () => {
      throw new Error('handler bug');
    });
    bus.publish('user.registered', { id: 'u4' });
    await expect(bus.idle()).resolves.toBeUndefined();
  });

  it('stops delivering to a subscriber after it unsubscribes', async () => {
    const bus = createEventBus<Events>(busOptions());
    const seen: string[] = [];
    const unsubscribe = bus.subscribe('user.registered', ({ id }) => {
      seen.push(id);
    });
    bus.publish('user.registered', { id: 'before' });
    await bus.idle();
    unsubscribe();
    bus.publish('user.registered', { id: 'after' });
    await bus.idle();
    expect(seen).toEqual(['before']);
    expect(bus.listenerCount('user.registered')).toBe(0);
  });

  it('delivers relayed events in the trace their W3C headers name', async () => {
    const bus = createEventBus<Events>(busOptions());
    const upstream = telemetry.tracerProvider.getTracer('upstream').startSpan('kafka process');
    const { trace, context } = await import('@opentelemetry/api');
    const headers = context.with(trace.setSpan(context.active(), upstream), () =>
      withCorrelationId('relayed-9', () => injectContext({})),
    );
    upstream.end();
    let correlationId: string | undefined;
    bus.subscribe('user.registered', () => {
      correlationId = getCorrelationId();
    });
    bus.relay('user.registered', { id: 'u5' }, headers);
    await bus.idle();
    const processSpan = telemetry.spans().find((s) => s.name === 'process user.registered');
    expect(processSpan?.parentSpanContext?.spanId).toBe(upstream.spanContext().spanId);
    expect(correlationId).toBe('relayed-9');
  });

  it("records publish and process spans with each view's own provider, in one trace", async () => {
    const other = createTestTelemetry();
    const hub = createEventBus<Events>(busOptions());
    const consumerView = hub.withOptions({ tracerProvider: other.tracerProvider });
    consumerView.subscribe('user.registered', () => {});
    hub.publish('user.registered', { id: 'u7' });
    await hub.idle();
    const [send] = telemetry.spans();
    const [process] = other.spans();
    expect(send?.name).toBe('send user.registered');
    expect(process?.name).toBe('process user.registered');
    expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    await other.shutdown();
  });
});
