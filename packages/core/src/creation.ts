import { type Context, propagation, trace } from '@opentelemetry/api';
import { BAGGAGE_KEY, withValue } from './context-chain.js';
import { createCorrelationId, getCorrelationId, setCorrelationId } from './correlation.js';
import { extractContext } from './propagation.js';
import type { TelemetryRuntime } from './runtime.js';
import { ATTR_BATON_CORRELATION_ID } from './semconv.js';
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

/**
 * The handler context of a message whose process span another instrumentation started
 * (`coexistence: 'contrib'`): `active` (that span) with the message's correlation id and
 * baggage as Baton reads them (none in `'link'` mode). The correlation id also goes on that
 * span, as `baton.correlation_id`.
 */
export function besideContrib(
  runtime: TelemetryRuntime,
  description: MessageDescription,
  active: Context,
): Context {
  const creation = safeCreationContext(runtime, description, active);
  const correlationId = getCorrelationId(creation) ?? createCorrelationId();
  let ctx = setCorrelationId(active, correlationId);
  const baggage = propagation.getBaggage(creation);
  ctx = baggage ? propagation.setBaggage(ctx, baggage) : propagation.deleteBaggage(ctx);
  runtime.diagnostics.guard('process telemetry', () => {
    const span = trace.getSpan(active);
    if (span?.isRecording()) span.setAttribute(ATTR_BATON_CORRELATION_ID, correlationId);
  });
  return ctx;
}
