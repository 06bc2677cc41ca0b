import {
  type Coexistence,
  type MessagingTelemetry,
  methodOwner,
  unwrappedOriginal,
} from '@baton/core';

type AnyMethod = (...args: unknown[]) => unknown;

/** The client function a traced call runs, on what, and whether contrib's wrapper records it. */
interface ClientCall {
  owner: object;
  fn: AnyMethod;
  contrib: boolean;
}

// OpenTelemetry's contrib instrumentation wraps a producer's `send`, `sendBatch` and
// `transaction` and a consumer's `run` per instance. With 'baton' the function under the
// wrapper runs: no span of contrib's, no injected traceparent over Baton's, and none of
// its message counters. `fixed` is the mode of the transaction a sender belongs to (contrib
// replaces a transaction's sends without shimmer's marks).
export function clientCall(
  telemetry: MessagingTelemetry,
  target: object,
  name: string,
  fixed?: Coexistence,
): ClientCall {
  const owner = methodOwner(target, name);
  const fn = (owner as Record<string, AnyMethod>)[name] as AnyMethod;
  const mode = fixed ?? telemetry.coexistenceOf(fn);
  if (mode === 'baton') return { owner, fn: unwrappedOriginal(fn) ?? fn, contrib: false };
  return { owner, fn, contrib: mode === 'contrib' };
}
