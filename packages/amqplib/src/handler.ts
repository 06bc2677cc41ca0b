import type { MessageDescription } from '@baton/core';
import { createTelemetry } from './channel.js';
import { describeDelivery } from './message.js';
import { resolveAmqplibOptions } from './options.js';
import type { AmqpMessage, TraceHandlerOptions } from './types.js';

/**
 * Wraps ONE `consume` callback for a channel you do not wrap: each delivery runs in a
 * `process` span in its producer's trace, with the correlation id and baggage active.
 * Returns a function of the same shape; its result and errors pass through unchanged (a
 * promise too: the caller of this function sees its rejection). Settling stays yours, and
 * is not traced; the broker cancel (`null`) passes straight through. Pass `queue` so the
 * destination names the queue.
 *
 * @example
 * await rawChannel.consume('mailer', traceHandler((msg) => { ... }, { queue: 'mailer' }));
 */
export function traceHandler<M extends AmqpMessage, R>(
  onMessage: (message: M | null) => R,
  options?: TraceHandlerOptions,
): (message: M | null) => R {
  const telemetry = createTelemetry(options);
  const { publishTimeHeader } = resolveAmqplibOptions(options, telemetry.diagnostics);
  const queue = typeof options?.queue === 'string' ? options.queue : '';
  return (message) => {
    if (message === null || typeof message !== 'object') return onMessage(message);
    let description: MessageDescription;
    try {
      description = describeDelivery(message, { queue, timeHeader: publishTimeHeader });
    } catch (error) {
      // Not shaped like an amqplib delivery: handed over untraced, as amqplib would.
      telemetry.diagnostics.warnOnce('amqplib delivery description', error);
      return onMessage(message);
    }
    return telemetry.process(description, () => onMessage(message));
  };
}
