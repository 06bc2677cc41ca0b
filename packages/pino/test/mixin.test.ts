import { edgeContext, runWithContext, withCorrelationId } from '@baton/core';
import { createLogSink, createTestTelemetry, type TestTelemetry } from '@baton/testing';
import { context, diag, propagation, trace } from '@opentelemetry/api';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batonMixin, correlationFields, createLogger } from '../src/index.js';

let telemetry: TestTelemetry;
beforeEach(() => {
  telemetry = createTestTelemetry();
});
afterEach(async () => {
  await telemetry.shutdown();
  vi.restoreAllMocks();
});

describe('batonMixin', () => {
  it('adds trace_id, span_id, trace_flags and correlation_id inside a span', () => {
    const sink = createLogSink();
    const logger = createLogger({ name: 'svc' }, sink.stream);
    const span = telemetry.tracerProvider.getTracer('t').startSpan('work');
    context.with(trace.setSpan(context.active(), span), () =>
      withCorrelationId('corr-1', () => logger.info('hello')),
    );
    span.end();
    expect(sink.lines()[0]).toMatchObject({
      msg: 'hello',
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
      trace_flags: '01',
      correlation_id: 'corr-1',
    });
  });

  it('logs only allow-listed baggage keys, and cuts long values', () => {
    const sink = createLogSink();
    const logger = createLogger(
      { baton: { baggageKeys: ['tenant_id', 'user_id'], maxBaggageValueLength: 8 } },
      sink.stream,
    );
    const ctx = edgeContext(
      { baggage: 'tenant_id=acme,secret=hunter2,user_id=0123456789abcdef' },
      { trustBaggage: 'all' },
    );
    runWithContext(ctx, () => logger.info('with baggage'));
    const line = sink.lines()[0];
    expect(line).toMatchObject({ tenant_id: 'acme', user_id: '01234567' });
    expect(line).not.toHaveProperty('secret');
    expect(propagation.getBaggage(ctx)?.getEntry('secret')?.value).toBe('hunter2');
  });

  it('adds nothing outside any context', () => {
    const sink = createLogSink();
    createLogger({}, sink.stream).info('bare');
    const line = sink.lines()[0];
    expect(line).not.toHaveProperty('trace_id');
    expect(line).not.toHaveProperty('correlation_id');
  });

  it("composes with the user's mixin, whose fields win", () => {
    const sink = createLogSink();
    const logger = pino(
      { mixin: batonMixin({ mixin: () => ({ service: 'api', correlation_id: 'mine' }) }) },
      sink.stream,
    );
    withCorrelationId('ours', () => logger.info('composed'));
    expect(sink.lines()[0]).toMatchObject({ service: 'api', correlation_id: 'mine' });
  });

  it('keeps logging when reading the context throws', () => {
    vi.spyOn(diag, 'warn').mockImplementation(() => {});
    vi.spyOn(trace, 'getSpanContext').mockImplementation(() => {
      throw new Error('broken API');
    });
    const sink = createLogSink();
    const logger = pino({ mixin: batonMixin({ mixin: () => ({ kept: true }) }) }, sink.stream);
    expect(() => logger.info('still here')).not.toThrow();
    expect(sink.lines()[0]).toMatchObject({ msg: 'still here', kept: true });
  });

  it('falls back to the default length for an invalid maxBaggageValueLength, with a warning', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const sink = createLogSink();
    const logger = createLogger(
      { baton: { baggageKeys: ['tenant_id'], maxBaggageValueLength: -1 } },
      sink.stream,
    );
    runWithContext(edgeContext({ baggage: 'tenant_id=acme' }, { trustBaggage: 'all' }), () =>
      logger.info('x'),
    );
    expect(sink.lines()[0]).toMatchObject({ tenant_id: 'acme' });
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/^@baton\/pino: ignoring invalid maxBaggageValueLength/),
    );
  });

  it("keeps logging with Baton's fields when the user's mixin throws", () => {
    vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const sink = createLogSink();
    const logger = pino(
      {
        mixin: batonMixin({
          mixin: () => {
            throw new Error('user mixin bug');
          },
        }),
      },
      sink.stream,
    );
    withCorrelationId('still-1', () => logger.info('survives'));
    expect(sink.lines()[0]).toMatchObject({ msg: 'survives', correlation_id: 'still-1' });
  });

  it('never lets a baggage key write a field the logger writes itself', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const raw: string[] = [];
    const logger = createLogger(
      { name: 'svc', baton: { baggageKeys: ['level', 'time', 'msg', 'service', 'tenant_id'] } },
      { write: (line: string) => void raw.push(line) },
    ).child({ service: 'billing' });
    const hostile = 'level=60,time=0,msg=spoofed,service=evil,tenant_id=acme';
    runWithContext(edgeContext({ baggage: hostile }, { trustBaggage: 'all' }), () =>
      logger.info('real message'),
    );
    const line = raw[0] ?? '';
    for (const key of ['level', 'time', 'msg', 'service', 'name']) {
      expect(line.split(`"${key}":`).length - 1, key).toBe(1);
    }
    expect(JSON.parse(line)).toMatchObject({
      level: 30,
      msg: 'real message',
      service: 'billing',
      tenant_id: 'acme',
    });
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/^@baton\/pino: ignoring baggageKeys .*level, time, msg/),
    );
  });

  it('leaves reserved names out when correlationFields is called directly', () => {
    const ctx = edgeContext({ baggage: 'level=60,tenant_id=acme' }, { trustBaggage: 'all' });
    const fields = runWithContext(ctx, () =>
      correlationFields({ baggageKeys: ['level', 'tenant_id'] }),
    );
    expect(fields).not.toHaveProperty('level');
    expect(fields.tenant_id).toBe('acme');
  });
});
