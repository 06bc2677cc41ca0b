import type { Context } from '@opentelemetry/api';
import { runWithContext } from './context-scope.js';

// The context of each message of a batch being handled, keyed by the client's own message
// object. Weak: an entry lives only as long as the application holds the message.
const contexts = new WeakMap<object, Context>();

/** Remembers `ctx` as `message`'s own context while its batch is handled. Internal. */
export function rememberMessageContext(message: unknown, ctx: Context): void {
  if (message !== null && (typeof message === 'object' || typeof message === 'function')) {
    contexts.set(message, ctx);
  }
}

/**
 * The context of one message of a batch (its creation context and correlation id), by
 * the client's own message object, as the batch handler received it; `undefined` for a
 * message Baton did not deliver in a batch.
 */
export function messageContextOf(message: object): Context | undefined {
  return contexts.get(message);
}

/**
 * Runs `fn` inside one message's own context while handling a batch, so its logs and
 * spans join that message's trace. `message` is the client's own message object, as the
 * batch handler received it (a kafkajs message of `batch.messages`, a stream entry). For a
 * message Baton did not deliver in a batch, `fn` runs in the current context.
 *
 * @example
 * eachBatch: async ({ batch }) => {
 *   for (const message of batch.messages) await runInMessageContext(message, () => handle(message));
 * }
 */
export function runInMessageContext<R>(message: object, fn: () => R): R {
  const ctx = contexts.get(message);
  return ctx === undefined ? fn() : runWithContext(ctx, fn);
}
