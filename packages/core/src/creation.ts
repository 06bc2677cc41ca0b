import { type Context, propagation } from '@opentelemetry/api';
import { BAGGAGE_KEY, withValue } from './context-chain.js';
import { createCorrelationId, getCorrelationId, setCorrelationId } from './correlation.js';
import { extractContext } from './propagation.js';
import type { TelemetryRuntime } from './runtime.js';
import type { MessageDescription } from './types.js';

/**
 * The context a message was created in: its producer's span, baggage and correlation id
 * (a new id when it carries none or an unsafe one). In `'link'` mode the producer's
 * baggage is dropped: at a trust boundary it is not believed, object or headers alike.
 */
export function creationContext(
  runtime: TelemetryRuntime,
  description: MessageDescription,
  base: Context,
): Context {
  const untrusted = runtime.options.consumerSpanRelation === 'link';
  if (description.context !== undefined) {
    let ctx = description.context;
    if (untrusted && propagation.getBaggage(ctx) !== undefined)
      ctx = withValue(ctx, BAGGAGE_KEY, undefined);
    return getCorrelationId(ctx) === undefined ? setCorrelationId(ctx, createCorrelationId()) : ctx;
  }
  const propagator = runtime.options.propagator;
  return extractContext(description.headers, base, {
    ...(propagator !== undefined && { propagator }),
    dropBaggage: untrusted,
  });
}

/** {@link creationContext}, or `base` with a new correlation id if reading it failed. */
export function safeCreationContext(
  runtime: TelemetryRuntime,
  description: MessageDescription,
  base: Context,
): Context {
  try {
    return creationContext(runtime, description, base);
  } catch (error) {
    runtime.diagnostics.warnOnce('context extraction', error);
    return setCorrelationId(base, createCorrelationId());
  }
}
