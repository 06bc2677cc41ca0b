import { activeContext, getCorrelationId, withCorrelationId } from '@baton/core';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../src/index.js';

// This file registers nothing: no context manager, no tracer or meter provider.
describe('EventBus with no OpenTelemetry SDK', () => {
  it('has only the no-op context manager in this file', () => {
    const probe = ROOT_CONTEXT.setValue(Symbol('probe'), 1);
    expect(context.with(probe, () => context.active())).toBe(ROOT_CONTEXT);
  });

  it('still carries the correlation id across a hop', async () => {
    const bus = createEventBus<{ ping: number }>();
    const seen: Array<string | undefined> = [];
    bus.subscribe('ping', () => {
      seen.push(getCorrelationId());
    });
    withCorrelationId('no-sdk-1', () => bus.publish('ping', 1));
    await bus.idle();
    expect(seen).toEqual(['no-sdk-1']);
  });

  it('still carries an incoming trace id to handlers and onward publishes', async () => {
    const bus = createEventBus<{ ping: number; pong: number }>();
    const traceIds: Array<string | undefined> = [];
    bus.subscribe('ping', () => {
      traceIds.push(trace.getSpanContext(activeContext())?.traceId);
      bus.publish('pong', 2);
    });
    bus.subscribe('pong', () => {
      traceIds.push(trace.getSpanContext(activeContext())?.traceId);
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    bus.relay('ping', 1, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    await bus.idle();
    expect(traceIds).toEqual([traceId, traceId]);
  });
});
