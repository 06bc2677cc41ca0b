import { EventEmitter } from 'node:events';
import { METRIC_CONSUMED_MESSAGES, METRIC_SENT_MESSAGES, withCorrelationId } from '@baton/core';
import { sumMetric } from '@baton/testing';
import { diag, SpanKind, trace } from '@opentelemetry/api';
import { describe, expect, it, vi } from 'vitest';
import {
  type AmqplibOptions,
  type AmqpMessage,
  type AmqpPublish,
  traceChannel,
  traceConsumer,
  traceHandler,
  traceProducer,
} from '../src/index.js';
import { FakeChannel } from './fake-channel.js';
import { useTracedChannels } from './traced.js';

const { telemetry, ofKind, roundTrip } = useTracedChannels();

const providers = (extra: AmqplibOptions = {}): AmqplibOptions => ({
  tracerProvider: telemetry().tracerProvider,
  meterProvider: telemetry().meterProvider,
  ...extra,
});
const names = () =>
  telemetry()
    .spans()
    .map((s) => s.name);

describe('traceProducer and traceConsumer', () => {
  it('traceProducer traces publishes only: consuming and settling stay amqplib’s own', async () => {
    const raw = new FakeChannel();
    const producer = traceProducer(raw, providers());
    const seen: AmqpMessage[] = [];
    await producer.consume('jobs', (msg) => msg && seen.push(msg));
    raw.deliver(roundTrip(producer, raw));
    producer.ack(seen[0] as AmqpMessage);
    expect(names()).toEqual(['send jobs']);
    expect(raw.settles.map((s) => s.op)).toEqual(['ack']);
  });

  it('traceConsumer traces deliveries, gets and settles only: publishes stay amqplib’s own', async () => {
    const raw = new FakeChannel();
    const consumer = traceConsumer(raw, providers());
    await consumer.consume('jobs', (msg) => msg && consumer.ack(msg));
    consumer.sendToQueue('jobs', Buffer.from('x'));
    expect(raw.published[0]?.options?.headers).toBeUndefined();
    raw.deliver(raw.message(raw.published[0]));
    expect(names()).toEqual(['process jobs']);
  });

  it('composes in either order, each side traced once, and is the channel traceChannel makes', async () => {
    const orders = [
      (raw: FakeChannel) => traceConsumer(traceProducer(raw, providers()), providers()),
      (raw: FakeChannel) => traceProducer(traceConsumer(raw, providers()), providers()),
      (raw: FakeChannel) => traceChannel(raw, providers()),
    ];
    for (const compose of orders) {
      const raw = new FakeChannel();
      const channel = compose(raw);
      expect(traceChannel(channel, providers())).toBe(channel);
      expect(traceProducer(channel, providers())).toBe(channel);
      expect(traceConsumer(channel, providers())).toBe(channel);
      await channel.consume('jobs', (msg) => msg && channel.ack(msg));
      raw.deliver(roundTrip(channel, raw));
      expect(channel.whoAmI().self).toBe(raw);
    }
    const perRun = ['send jobs', 'process jobs'];
    expect(names()).toEqual([...perRun, ...perRun, ...perRun]);
    expect(raw0Events()).toEqual(['ack', 'ack', 'ack']);
  });

  it('returns what is not a channel untraced, with one warning naming the package', () => {
    const warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
    expect(traceProducer(null as never)).toBeNull();
    expect(traceConsumer(undefined as never)).toBeUndefined();
    expect(warn.mock.calls.map(([text]) => String(text).split(':')[0])).toEqual([
      '@baton/amqplib',
      '@baton/amqplib',
    ]);
  });
});

function raw0Events(): string[] {
  return ofKind(SpanKind.CONSUMER).flatMap((s) => s.events.map((e) => e.name));
}

describe('what a message carries onto its spans', () => {
  it("puts AMQP's correlationId on send and process spans as the conversation id, and never changes it", async () => {
    const raw = new FakeChannel();
    const channel = traceChannel(raw, providers());
    await channel.consume('rpc', () => {});
    withCorrelationId('baton-corr', () =>
      channel.sendToQueue('rpc', Buffer.from('q'), { correlationId: 'rpc-77' }),
    );
    expect(raw.published[0]?.options?.correlationId).toBe('rpc-77');
    const msg = raw.message(raw.published[0]);
    raw.deliver({ ...msg, properties: { ...msg.properties, correlationId: 'rpc-77' } });
    for (const span of telemetry().spans()) {
      expect(span.attributes['messaging.message.conversation_id'], span.name).toBe('rpc-77');
      expect(span.attributes['baton.correlation_id'], span.name).toBe('baton-corr');
    }
  });

  it('gives hooks the publish as called and amqplib’s own delivered message', async () => {
    const raw = new FakeChannel();
    const published: unknown[] = [];
    const consumed: unknown[] = [];
    const channel = traceChannel(
      raw,
      providers({
        publishHook: (_span, info) => published.push(info.message),
        consumeHook: (_span, info) => consumed.push(info.message),
      }),
    );
    await channel.consume('jobs', () => {});
    const content = Buffer.from('body');
    const options = { messageId: 'm-1' };
    channel.publish('users', 'user.created', content, options);
    const msg = raw.message(raw.published[0]);
    raw.deliver(msg);
    expect(published).toEqual([
      { exchange: 'users', routingKey: 'user.created', content, options } satisfies AmqpPublish,
    ]);
    expect((published[0] as AmqpPublish).content).toBe(content);
    expect(consumed).toEqual([msg]);
    expect(consumed[0]).toBe(msg);
  });

  it("records server.address and server.port from the channel's connection", async () => {
    const raw = Object.assign(new FakeChannel(), {
      connection: Object.assign(new EventEmitter(), {
        stream: { remoteAddress: '10.1.2.3', remotePort: 5671 },
      }),
    });
    const channel = traceChannel(raw, providers());
    await channel.consume('jobs', (msg) => msg && channel.ack(msg));
    raw.deliver(roundTrip(channel, raw));
    for (const span of telemetry().spans()) {
      expect(span.attributes['server.address'], span.name).toBe('10.1.2.3');
      expect(span.attributes['server.port'], span.name).toBe(5671);
    }
    const points = await telemetry().metricPoints();
    expect(points.filter((p) => p.name.startsWith('messaging.')).length).toBeGreaterThan(0);
    for (const point of points.filter((p) => p.name.startsWith('messaging.'))) {
      expect(point.attributes['server.address'], point.name).toBe('10.1.2.3');
    }
  });

  it('counts a message that get returned as consumed, once, and an empty get not at all', async () => {
    const raw = new FakeChannel();
    const channel = traceChannel(raw, providers());
    raw.pending.push(roundTrip(channel, raw));
    await channel.get('jobs');
    await channel.get('jobs');
    const points = await telemetry().metricPoints();
    expect(sumMetric(points, METRIC_CONSUMED_MESSAGES)).toBe(1);
    expect(
      sumMetric(points, METRIC_CONSUMED_MESSAGES, {
        'messaging.operation.name': 'receive',
        'messaging.destination.name': 'jobs',
      }),
    ).toBe(1);
  });

  it('honours OTEL_SEMCONV_STABILITY_OPT_IN for its own attributes, read when a channel is traced', async () => {
    const names = async (value: string) => {
      vi.stubEnv('OTEL_SEMCONV_STABILITY_OPT_IN', value);
      const raw = new FakeChannel();
      const channel = traceChannel(raw, providers());
      vi.unstubAllEnvs();
      await channel.consume('jobs', () => {});
      channel.publish('ex', 'key', Buffer.from('x'));
      raw.deliver(raw.message(raw.published.at(-1)));
      const spans = telemetry().spans().splice(-2);
      return spans.flatMap((s) =>
        Object.keys(s.attributes).filter((k) => /rabbitmq|messaging\.system/.test(k)),
      );
    };
    const stable = await names('http,messaging');
    expect(stable).toContain('rabbitmq.destination.routing_key');
    expect(stable).toContain('messaging.system.name');
    expect(stable).not.toContain('messaging.rabbitmq.destination.routing_key');
    expect(stable).toContain('baton.rabbitmq.message.redelivered');
    const dup = await names('messaging/dup');
    expect(dup).toContain('rabbitmq.message.delivery_tag');
    expect(dup).toContain('messaging.rabbitmq.message.delivery_tag');
    const old = await names('');
    expect(old).not.toContain('rabbitmq.message.delivery_tag');
    expect(old).toContain('messaging.system');
  });
});

describe('traceHandler', () => {
  it("runs a raw channel's handler in a process span of the producer's trace, passing results and errors through", async () => {
    const producer = new FakeChannel();
    const traced = traceProducer(producer, providers());
    withCorrelationId('h-1', () =>
      traced.publish('users', 'user.created', Buffer.from('x'), { correlationId: 'c-9' }),
    );
    const msg = producer.message(producer.published[0]);
    let inTrace: string | undefined;
    const handler = traceHandler(
      (m: AmqpMessage | null) => {
        if (m === null) return 'cancelled';
        inTrace = trace.getActiveSpan()?.spanContext().traceId;
        if (m.content.toString() === 'x') return 'done';
        throw new TypeError('bad');
      },
      { ...providers(), queue: 'mailer' },
    );
    expect(handler(msg)).toBe('done');
    expect(() => handler({ ...msg, content: Buffer.from('y') })).toThrow(TypeError);
    expect(handler(null)).toBe('cancelled');
    const [send] = ofKind(SpanKind.PRODUCER);
    const processes = ofKind(SpanKind.CONSUMER);
    expect(processes.map((s) => s.name)).toEqual([
      'process users:user.created:mailer',
      'process users:user.created:mailer',
    ]);
    expect(processes[0]?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(processes[0]?.attributes['baton.correlation_id']).toBe('h-1');
    expect(processes[0]?.attributes['messaging.message.conversation_id']).toBe('c-9');
    expect(processes[1]?.attributes['error.type']).toBe('TypeError');
    expect(inTrace).toBe(send?.spanContext().traceId);
    expect(producer.settles).toEqual([]);
  });

  it('names the destination without the queue when it is not given', () => {
    const raw = new FakeChannel();
    const handler = traceHandler(() => undefined, providers());
    handler(raw.message({ ...emptyPublish, exchange: 'users', routingKey: 'user.created' }));
    expect(names()).toEqual(['process users:user.created']);
  });
});

const emptyPublish = {
  exchange: '',
  routingKey: '',
  content: Buffer.from(''),
  options: undefined,
  callback: undefined,
};

describe('sent metrics of the two sides', () => {
  it('counts a publish through a composed channel once', async () => {
    const raw = new FakeChannel();
    const channel = traceConsumer(traceProducer(raw, providers()), providers());
    channel.sendToQueue('jobs', Buffer.from('x'));
    expect(sumMetric(await telemetry().metricPoints(), METRIC_SENT_MESSAGES)).toBe(1);
  });
});
