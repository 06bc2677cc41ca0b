import type { BatchScope } from '@baton/core';
import type { Context } from '@opentelemetry/api';
import type { KafkaConsumedMessageLike, KafkaEachBatchPayloadLike } from './types.js';

interface Registered {
  scope: BatchScope;
  messages: readonly KafkaConsumedMessageLike[];
  byMessage?: Map<KafkaConsumedMessageLike, number>;
}

// Keyed by the payload object kafkajs hands to eachBatch, so the user's handler keeps the
// client's own payload type and object, and nothing outlives the payload.
const scopes = new WeakMap<object, Registered>();

/** Remembers the per-message contexts of one eachBatch call. */
export function registerBatchScope(
  payload: object,
  messages: readonly KafkaConsumedMessageLike[],
  scope: BatchScope,
): void {
  scopes.set(payload, { scope, messages });
}

function indexOf(registered: Registered, message: KafkaConsumedMessageLike | number): number {
  if (typeof message === 'number') return message;
  if (registered.byMessage === undefined) {
    registered.byMessage = new Map(registered.messages.map((m, i) => [m, i]));
  }
  return registered.byMessage.get(message) ?? -1;
}

/**
 * Runs `fn` inside the context of one message of a traced `eachBatch` call: its producer's
 * trace, baggage and `x-correlation-id`. Logs and spans made in `fn` belong to that
 * message's trace rather than to the batch span. `message` is one of `batch.messages` or
 * its index. Outside a traced batch (or for an unknown message) `fn` simply runs.
 *
 * @example
 * eachBatch: async (payload) => {
 *   for (const message of payload.batch.messages) {
 *     await runInMessageContext(payload, message, () => handle(message));
 *     payload.resolveOffset(message.offset);
 *   }
 * }
 */
export function runInMessageContext<R>(
  payload: KafkaEachBatchPayloadLike,
  message: KafkaConsumedMessageLike | number,
  fn: () => R,
): R {
  const registered = scopes.get(payload);
  if (registered === undefined) return fn();
  const index = indexOf(registered, message);
  return index < 0 ? fn() : registered.scope.runInMessageContext(index, fn);
}

/** The context of one message of a traced `eachBatch` call, or `undefined` outside one. */
export function batchMessageContext(
  payload: KafkaEachBatchPayloadLike,
  message: KafkaConsumedMessageLike | number,
): Context | undefined {
  const registered = scopes.get(payload);
  if (registered === undefined) return undefined;
  return registered.scope.contexts[indexOf(registered, message)];
}
