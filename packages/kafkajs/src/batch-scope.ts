import { type BatchScope, runInMessageContext as runInContextOf } from '@baton/core';
import type { Context } from '@opentelemetry/api';
import { warnDeprecated } from './deprecation.js';
import type { KafkaConsumedMessageLike, KafkaEachBatchPayloadLike } from './types.js';

interface Registered {
  scope: BatchScope;
  messages: readonly KafkaConsumedMessageLike[];
  byMessage?: Map<KafkaConsumedMessageLike, number>;
}

// For the deprecated payload-keyed functions only. Keyed by the payload object kafkajs
// hands to eachBatch, so nothing outlives the payload.
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
 * message's trace rather than to the batch span. `message` is one of `batch.messages`, as
 * the handler got it. For any other object `fn` simply runs.
 *
 * @example
 * eachBatch: async ({ batch, resolveOffset }) => {
 *   for (const message of batch.messages) {
 *     await runInMessageContext(message, () => handle(message));
 *     resolveOffset(message.offset);
 *   }
 * }
 */
export function runInMessageContext<R>(message: KafkaConsumedMessageLike, fn: () => R): R;
/**
 * @deprecated Use `runInMessageContext(message, fn)`; goes away in the next release.
 */
export function runInMessageContext<R>(
  payload: KafkaEachBatchPayloadLike,
  message: KafkaConsumedMessageLike | number,
  fn: () => R,
): R;
export function runInMessageContext<R>(...args: unknown[]): R {
  if (typeof args[2] !== 'function') {
    return runInContextOf(args[0] as object, args[1] as () => R);
  }
  warnDeprecated('runInMessageContext(payload, message, fn)', 'runInMessageContext(message, fn)');
  const [payload, message, fn] = args as [object, KafkaConsumedMessageLike | number, () => R];
  const registered = scopes.get(payload);
  if (registered === undefined) return fn();
  const index = indexOf(registered, message);
  return index < 0 ? fn() : registered.scope.runInMessageContext(index, fn);
}

/**
 * The context of one message of a traced `eachBatch` call, or `undefined` outside one.
 * @deprecated Use `messageContextOf(message)`; goes away in the next release.
 */
export function batchMessageContext(
  payload: KafkaEachBatchPayloadLike,
  message: KafkaConsumedMessageLike | number,
): Context | undefined {
  warnDeprecated('batchMessageContext(payload, message)', 'messageContextOf(message)');
  const registered = scopes.get(payload);
  if (registered === undefined) return undefined;
  return registered.scope.contexts[indexOf(registered, message)];
}
