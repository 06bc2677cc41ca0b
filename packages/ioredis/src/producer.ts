import {
  ATTR_MESSAGING_MESSAGE_ID,
  type BatonOptions,
  MessagingTelemetry,
  type PublishDescription,
} from '@baton/core';
import { type Span, trace } from '@opentelemetry/api';
import { explicitEntryId, xaddArguments } from './carrier.js';
import { SCOPE, SYSTEM, serverOf } from './describe.js';
import type {
  AddOptions,
  PipelineLike,
  ProducerClient,
  StreamFields,
  StreamProducer,
} from './types.js';

// In a multi() the per-command reply is the status QUEUED, not the id.
function recordEntryId(span: Span | undefined, id: unknown): void {
  if (span && typeof id === 'string' && id !== 'QUEUED') {
    span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, id);
  }
}

const ignore = () => {};

/**
 * Wraps an ioredis client (`Redis` or `Cluster`) so that every `add` is an `XADD` inside a
 * `send <stream>` PRODUCER span, with `traceparent`, `tracestate`, `baggage` and
 * `x-correlation-id` written as entry fields beside the payload. The client is not
 * modified; the caller's fields object is never mutated.
 *
 * @example
 * const producer = traceProducer(redis);
 * const id = await producer.add('orders', { orderId: '42' }, { maxLen: 10_000, approximate: true });
 */
export function traceProducer(client: ProducerClient, options?: BatonOptions): StreamProducer {
  const telemetry = new MessagingTelemetry(SCOPE, options);
  const { serverAddress, serverPort } = serverOf(client);
  const describe = (
    stream: string,
    fields: StreamFields,
    addOptions: AddOptions | undefined,
  ): PublishDescription => ({
    system: SYSTEM,
    destination: stream,
    headers: fields,
    messageId: explicitEntryId(addOptions),
    serverAddress,
    serverPort,
  });

  return {
    add(stream, fields, addOptions) {
      return telemetry.publish(describe(stream, fields, addOptions), (entryFields) => {
        const span = trace.getActiveSpan();
        const reply = client.xadd(stream, ...xaddArguments(entryFields, addOptions));
        // Only a recording span keeps the id: skip the extra promise otherwise.
        if (span === undefined || !span.isRecording()) return reply;
        return reply.then((id) => {
          recordEntryId(span, id);
          return id;
        });
      });
    },

    addTo(pipeline, stream, fields, addOptions) {
      const queued = telemetry.publish(
        describe(stream, fields, addOptions),
        (entryFields) =>
          new Promise<string | null | undefined>((resolve, reject) => {
            const span = trace.getActiveSpan();
            (pipeline as PipelineLike).xadd(
              stream,
              ...xaddArguments(entryFields, addOptions),
              (error, id) => {
                if (error) return reject(error);
                recordEntryId(span, id);
                resolve(id);
              },
            );
          }),
      );
      // The reply (or its error) reaches the caller through exec(); this promise only
      // ends the span, and must not become an unhandled rejection.
      queued.catch(ignore);
      return pipeline;
    },
  };
}
