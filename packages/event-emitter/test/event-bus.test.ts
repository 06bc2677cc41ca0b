import { getCorrelationId, injectContext, resetWarnings, withCorrelationId } from '@baton/core';
import { createTestTelemetry, expectTraceTree, type TestTelemetry } from '@baton/testing';
import { diag, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEventBus, type DeliveryInfo, type EventBusErrorInfo } from '../src/index.js';

type Events = { 'user.registered': { id: string }; 'notification.sent': { id: string } };
let telemetry: TestTelemetry;
beforeEach(() => {
  telemetry = createTestTelemetry();
  resetWarnings();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await telemetry.shutdown();
});

const busOptions = () => ({
  ...telemetry.providers,
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
      { consumerGroup: 'notification_service' },
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

  it('reports a failing handler to onError and keeps the other subscribers running', async () => {
    const failures: Array<{ error: unknown; info: EventBusErrorInfo }> = [];
    const bus = createEventBus<Events>({
      ...busOptions(),
      onError: (error, info) => void failures.push({ error, info }),
    });
    const delivered: string[] = [];
    const boom = new RangeError('smtp down');
    bus.subscribe(
      'user.registered',
      async () => {
        throw boom;
      },
      { consumerGroup: 'mailer' },
    );
    bus.subscribe('user.registered', ({ id }) => {
      delivered.push(id);
    });
    const payload = { id: 'u3' };
    expect(() => bus.publish('user.registered', payload)).not.toThrow();
    await bus.idle();
    expect(delivered).toEqual(['u3']);
    expect(failures).toEqual([
      {
        error: boom,
        info: {
          operation: 'process',
          destination: 'user.registered',
          message: payload,
          event: 'user.registered',
          consumerGroup: 'mailer',
          publishedAt: expect.any(Number),
        },
      },
    ]);
    expect(failures[0]?.info.message).toBe(payload);
    const failed = telemetry.spans().find((s) => s.status.code === SpanStatusCode.ERROR);
    expect(failed?.attributes['error.type']).toBe('RangeError');
  });

  it('survives an onError that throws', async () => {
    const bus = createEventBus<Events>({
      ...busOptions(),
      onError: () => {
        throw new Error('listener bug');
      },
    });
    bus.subscribe('user.registered', () => {
      throw new Error('handler bug');
    });
    bus.publish('user.registered', { id: 'u4' });
    await expect(bus.idle()).resolves.toBeUndefined();
  });

  it('warns once through diag, as @baton/event-emitter, when there is no onError', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const error = vi.spyOn(diag, 'error').mockImplementation(() => {});
    const bus = createEventBus<Events>(busOptions());
    bus.subscribe('user.registered', () => {
      throw new Error('handler bug');
    });
    bus.publish('user.registered', { id: 'a' });
    bus.publish('user.registered', { id: 'b' });
    await bus.idle();
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/^@baton\/event-emitter: process failed/),
    ]);
    expect(error).not.toHaveBeenCalled();
  });

  it('gives a view made with withOptions the bus’s onError unless it has its own', async () => {
    const seen: string[] = [];
    const bus = createEventBus<Events>({ onError: () => void seen.push('bus') });
    const inherits = bus.withOptions({ tracerProvider: telemetry.tracerProvider });
    const own = bus.withOptions({ onError: () => void seen.push('own') });
    inherits.subscribe('user.registered', () => {
      throw new Error('a');
    });
    own.subscribe('notification.sent', () => {
      throw new Error('b');
    });
    bus.publish('user.registered', { id: '1' });
    await bus.idle();
    bus.publish('notification.sent', { id: '2' });
    await bus.idle();
    expect(seen).toEqual(['bus', 'own']);
  });

  it('hands hooks and the handler the payload and the consumer group', async () => {
    const published: unknown[] = [];
    const consumed: unknown[] = [];
    const infos: DeliveryInfo[] = [];
    const bus = createEventBus<Events>({
      ...busOptions(),
      publishHook: (_span, info) => void published.push(info.message),
      consumeHook: (_span, info) => void consumed.push(info.message),
    });
    bus.subscribe('user.registered', (_payload, info) => void infos.push(info), {
      consumerGroup: 'audit',
    });
    const payload = { id: 'u9' };
    bus.publish('user.registered', payload);
    await bus.idle();
    expect(published).toHaveLength(1);
    expect(published[0]).toBe(payload);
    expect(consumed[0]).toBe(payload);
    expect(infos[0]).toMatchObject({ event: 'user.registered', consumerGroup: 'audit' });
  });

  it('keeps name, onHandlerError and bus.onHandlerError working, deprecated', async () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const legacy: unknown[] = [];
    const bus = createEventBus<Events>({
      ...busOptions(),
      onHandlerError: (info) => void legacy.push(['option', info.subscriber, info.error]),
    });
    bus.onHandlerError((info) => void legacy.push(['method', info.subscriber, info.error]));
    const boom = new Error('boom');
    bus.subscribe(
      'user.registered',
      () => {
        throw boom;
      },
      { name: 'old-name' },
    );
    bus.publish('user.registered', { id: 'x' });
    await bus.idle();
    expect(legacy).toEqual([
      ['option', 'old-name', boom],
      ['method', 'old-name', boom],
    ]);
    const span = telemetry.spans().find((s) => s.name === 'process user.registered');
    expect(span?.attributes['messaging.consumer.group.name']).toBe('old-name');
    const messages = warn.mock.calls.map(([message]) => String(message));
    expect(messages.filter((m) => m.includes('deprecated'))).toEqual([
      expect.stringMatching(/^@baton\/event-emitter: the option onHandlerError .*onError/),
      expect.stringMatching(/^@baton\/event-emitter: bus\.onHandlerError.*onError/),
      expect.stringMatching(/^@baton\/event-emitter: the subscribe option name .*consumerGroup/),
    ]);
    expect(messages.filter((m) => !m.includes('deprecated'))).toEqual([]); // reported to listeners
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
