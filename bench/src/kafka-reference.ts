import { randomUUID } from 'node:crypto';
import type { BatonOptions } from '@baton/core';
import {
  context,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { linkTo } from './reference.js';

// What a team writes by hand without Baton for the same telemetry: a send span per call
// with the semconv attributes Baton sets, its context and a correlation id (the
// conversation id) injected into each message's headers; on consume, extraction from the
// Buffers kafkajs delivers and a process span (the send span's child) around the handler.
const w3c = new W3CTraceContextPropagator();
const bufferGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return Buffer.isBuffer(value) ? value.toString() : (value as string | undefined);
  },
};
const CORRELATION_ID = 'baton.correlation_id';

interface ConsumedMessage {
  key: Buffer | null;
  offset: string;
  headers?: Record<string, unknown>;
}

export function byHand(options: BatonOptions, groupId: string) {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('by-hand');
  return {
    async send<M extends { key?: string }, R>(
      topic: string,
      messages: M[],
      send: (messages: Array<M & { headers: Record<string, string> }>) => Promise<R>,
    ): Promise<R> {
      const correlationId = randomUUID();
      const single = messages.length === 1 ? messages[0] : undefined;
      const span = tracer.startSpan(`send ${topic}`, {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.name': 'send',
          'messaging.operation.type': 'send',
          'messaging.destination.name': topic,
        },
      });
      span.setAttribute(CORRELATION_ID, correlationId);
      if (single?.key !== undefined) span.setAttribute('messaging.kafka.message.key', single.key);
      if (!single) span.setAttribute('messaging.batch.message_count', messages.length);
      const ctx = trace.setSpan(context.active(), span);
      try {
        return await send(
          messages.map((m) => {
            const headers: Record<string, string> = { 'x-correlation-id': correlationId };
            w3c.inject(ctx, headers, defaultTextMapSetter);
            return { ...m, headers };
          }),
        );
      } finally {
        span.end();
      }
    },
    async process(topic: string, partition: number, message: ConsumedMessage, handle: () => void) {
      const headers = message.headers ?? {};
      const parent = w3c.extract(ROOT_CONTEXT, headers, bufferGetter);
      const span = tracer.startSpan(
        `process ${topic}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.name': 'process',
            'messaging.operation.type': 'process',
            'messaging.destination.name': topic,
            'messaging.destination.partition.id': String(partition),
            'messaging.consumer.group.name': groupId,
          },
          links: linkTo(parent),
        },
        parent,
      );
      span.setAttributes({
        [CORRELATION_ID]: bufferGetter.get(headers, 'x-correlation-id') ?? '',
        'messaging.kafka.offset': Number(message.offset),
        ...(message.key && { 'messaging.kafka.message.key': message.key.toString() }),
      });
      try {
        await context.with(trace.setSpan(parent, span), handle);
      } finally {
        span.end();
      }
    },
  };
}

/** Resolves `done` after `n` messages. */
export function counter(n: number) {
  let received = 0;
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    done,
    onMessage() {
      received++;
      if (received === n) resolve();
    },
  };
}
