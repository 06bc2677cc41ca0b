import { withCorrelationId } from '@baton/core';
import { createTestTelemetry, type TestTelemetry, waitFor } from '@baton/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AddCallback, type FieldValue, traceProducer } from '../src/index.js';

// A stand-in for an ioredis client: records each XADD and answers like Redis would.
function fakeClient(reply: (args: FieldValue[]) => Promise<string | null>) {
  const calls: FieldValue[][] = [];
  return {
    calls,
    options: { host: 'redis.internal', port: 6380 },
    xadd: (...args: [string, ...FieldValue[]]) => {
      calls.push(args);
      return reply(args);
    },
  };
}

function fakePipeline() {
  const queued: Array<{ args: FieldValue[]; callback: AddCallback }> = [];
  return {
    queued,
    xadd(...args: [string, ...unknown[]]) {
      queued.push({
        args: args.slice(0, -1) as FieldValue[],
        callback: args.at(-1) as AddCallback,
      });
      return this;
    },
  };
}

const fieldsOf = (args: FieldValue[]) => {
  const start = args.indexOf('*') + 1;
  return Object.fromEntries(
    Array.from({ length: (args.length - start) / 2 }, (_, i) => [
      args[start + 2 * i],
      args[start + 2 * i + 1],
    ]),
  );
};

describe('traceProducer', () => {
  let telemetry: TestTelemetry;
  beforeEach(() => {
    telemetry = createTestTelemetry();
  });
  afterEach(() => telemetry.shutdown());
  const options = () => ({
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
  });

  it('adds the context fields to a copy of the payload and records the entry id', async () => {
    const client = fakeClient(async () => '1718000000000-0');
    const payload = { orderId: '42' };
    const id = await withCorrelationId('c-1', () =>
      traceProducer(client, options()).add('orders', payload, { maxLen: 5, approximate: true }),
    );
    const [send] = telemetry.spans();
    expect(id).toBe('1718000000000-0');
    expect(payload).toEqual({ orderId: '42' });
    expect(client.calls[0]?.slice(0, 5)).toEqual(['orders', 'MAXLEN', '~', 5, '*']);
    expect(fieldsOf(client.calls[0]!)).toEqual({
      orderId: '42',
      traceparent: `00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`,
      'x-correlation-id': 'c-1',
    });
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.destination.name': 'orders',
      'messaging.message.id': '1718000000000-0',
      'server.address': 'redis.internal',
      'server.port': 6380,
    });
  });

  it('replaces context fields the caller wrote instead of duplicating them', async () => {
    const client = fakeClient(async () => '1-0');
    await traceProducer(client, options()).add('orders', { TraceParent: 'forged', a: '1' });
    const names = client.calls[0]!.slice(2).filter((_, i) => i % 2 === 0);
    expect(names.filter((name) => String(name).toLowerCase() === 'traceparent')).toEqual([
      'traceparent',
    ]);
  });

  it('rejects with the client error unchanged and marks the span', async () => {
    const failure = new Error('READONLY You can not write against a read only replica.');
    const client = fakeClient(() => Promise.reject(failure));
    await expect(traceProducer(client, options()).add('orders', { a: '1' })).rejects.toBe(failure);
    expect(telemetry.spans()[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('sends normally when the publish hook throws', async () => {
    const client = fakeClient(async () => '1-0');
    const producer = traceProducer(client, {
      ...options(),
      publishHook: () => {
        throw new Error('hook bug');
      },
    });
    await expect(producer.add('orders', { a: '1' })).resolves.toBe('1-0');
    expect(fieldsOf(client.calls[0]!).traceparent).toMatch(/^00-/);
  });

  it('queues on a pipeline and ends the span when the reply arrives', async () => {
    const pipeline = fakePipeline();
    const producer = traceProducer(
      fakeClient(async () => null),
      options(),
    );
    expect(producer.addTo(pipeline, 'orders', { a: '1' }, { id: '1718000000000-1' })).toBe(
      pipeline,
    );
    producer.addTo(pipeline, 'orders', { a: '2' });
    expect(pipeline.queued[0]?.args.slice(0, 2)).toEqual(['orders', '1718000000000-1']);
    expect(telemetry.spans()).toHaveLength(0);
    pipeline.queued[0]?.callback(null, '1718000000000-1');
    pipeline.queued[1]?.callback(new Error('ERR pipeline failed'));
    await waitFor(() => telemetry.spans().length === 2);
    const [ok, failed] = telemetry.spans();
    expect(ok?.attributes['messaging.message.id']).toBe('1718000000000-1');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('does not take the QUEUED reply of a multi() for the entry id', async () => {
    const pipeline = fakePipeline();
    traceProducer(
      fakeClient(async () => null),
      options(),
    ).addTo(pipeline, 'orders', { a: '1' });
    pipeline.queued[0]?.callback(null, 'QUEUED');
    await waitFor(() => telemetry.spans().length === 1);
    expect(telemetry.spans()[0]?.attributes['messaging.message.id']).toBeUndefined();
  });
});
