import { randomUUID } from 'node:crypto';
import { traceChannel } from '@baton/amqplib';
import type { BatonOptions } from '@baton/core';
import { isReachable } from '@baton/testing';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import amqp, { type Channel, type ConsumeMessage } from 'amqplib';
import type { Scenario, Variant } from './measure.js';
import { linkTo } from './reference.js';
import { handlerWork } from './work.js';

// bare amqplib vs amqplib wrapped by @baton/amqplib against the RabbitMQ in AMQP_URL (or
// 127.0.0.1:5672), one process, one run. Each message: sendToQueue on one channel, deliver
// to a consumer on another (prefetch 256) that acks it. Nagle is off (`noDelay`), as a
// tuned application would run it, so the figures are not dominated by 40 ms ACK delays.

const URL_ = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const PREFETCH = 256;
const SERVER = { address: new URL(URL_).hostname, port: Number(new URL(URL_).port || 5672) };
const BODY = Buffer.from(JSON.stringify({ userId: 'u-123', event: 'user.created' }));

type Wrap = (channel: Channel) => Channel;
type Handle = (channel: Channel, msg: ConsumeMessage, done: () => void) => void;

const ack: Handle = (channel, msg, done) => {
  handlerWork();
  channel.ack(msg);
  done();
};

async function variant(wrap: Wrap, handle: Handle, publish?: PublishFn): Promise<Variant> {
  const connection = await amqp.connect(URL_, { noDelay: true });
  const producer = wrap(await connection.createChannel());
  const consumer = wrap(await connection.createChannel());
  const queue = `baton-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await consumer.assertQueue(queue, { exclusive: true });
  await consumer.prefetch(PREFETCH);
  let received = 0;
  let target = 0;
  let finish: () => void = () => {};
  const counted = () => {
    received++;
    if (received === target) finish();
  };
  await consumer.consume(queue, (msg) => {
    if (msg) handle(consumer, msg, counted);
  });
  const send = publish ?? ((ch, q, body) => ch.sendToQueue(q, body));
  return {
    async run(n) {
      received = 0;
      target = n;
      const all = new Promise<void>((resolve) => {
        finish = resolve;
      });
      for (let i = 0; i < n; i++) {
        // The client's own back-pressure, as a well-behaved producer would honour it.
        if (!send(producer, queue, BODY)) await new Promise((r) => producer.once('drain', r));
      }
      await all;
    },
    async teardown() {
      await connection.close();
    },
  };
}

type PublishFn = (channel: Channel, queue: string, body: Buffer) => boolean;

// The reference: what a team writes without Baton for the same telemetry, with the same
// SDK. Publish: a PRODUCER span with the semconv attributes Baton sets, `traceparent` and a
// correlation id (the conversation id) injected into a headers object. Consume: extract,
// a CONSUMER span (the send span's child) with the same attributes, the handler inside
// its context, the in-handler ack as an `ack` event on it (as Baton records it).
function handWritten(options: BatonOptions): { publish: PublishFn; handle: Handle } {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('by-hand');
  const getter = {
    keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
    get: (carrier: Record<string, unknown>, key: string) => {
      const value = carrier[key];
      return typeof value === 'string' ? value : undefined;
    },
  };
  return {
    publish(channel, queue, body) {
      const correlationId = randomUUID();
      const span = tracer.startSpan(`send ${queue}`, {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.operation.name': 'send',
          'messaging.operation.type': 'send',
          'messaging.destination.name': queue,
          'messaging.rabbitmq.destination.routing_key': queue,
          'server.address': SERVER.address,
          'server.port': SERVER.port,
        },
      });
      span.setAttribute('baton.correlation_id', correlationId);
      const headers: Record<string, unknown> = { 'x-correlation-id': correlationId };
      propagation.inject(trace.setSpan(context.active(), span), headers);
      try {
        return channel.sendToQueue(queue, body, { headers });
      } finally {
        span.end();
      }
    },
    handle(channel, msg, done) {
      const headers = msg.properties.headers ?? {};
      const parent = propagation.extract(ROOT_CONTEXT, headers, getter);
      const queue = msg.fields.routingKey;
      const span = tracer.startSpan(
        `process ${queue}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'rabbitmq',
            'messaging.operation.name': 'process',
            'messaging.operation.type': 'process',
            'messaging.destination.name': queue,
            'messaging.rabbitmq.destination.routing_key': queue,
            'server.address': SERVER.address,
            'server.port': SERVER.port,
          },
          links: linkTo(parent),
        },
        parent,
      );
      span.setAttributes({
        'baton.correlation_id': getter.get(headers, 'x-correlation-id') ?? '',
        'messaging.rabbitmq.message.delivery_tag': msg.fields.deliveryTag,
        'baton.rabbitmq.message.redelivered': msg.fields.redelivered,
      });
      try {
        context.with(trace.setSpan(parent, span), () => {
          handlerWork();
          channel.ack(msg);
          span.addEvent('ack');
          done();
        });
      } finally {
        span.end();
      }
    },
  };
}

/** amqplib with and without Baton against RabbitMQ; undefined when it does not answer. */
export async function scenario(): Promise<Scenario | undefined> {
  if (!(await isReachable(URL_, 5672))) return undefined;
  return {
    name: 'rabbitmq (amqplib 0.10, sendToQueue -> consume + ack, noDelay)',
    plan: { messages: 50_000, warmupMessages: 150_000, rounds: 4 },
    bare: () => variant((channel) => channel, ack),
    baton: (options: BatonOptions) => variant((channel) => traceChannel(channel, options), ack),
    handWritten: (options: BatonOptions) => {
      const reference = handWritten(options);
      return variant((channel) => channel, reference.handle, reference.publish);
    },
  };
}
