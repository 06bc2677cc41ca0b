import {
  type Context,
  INVALID_SPAN_CONTEXT,
  type Link,
  type Span,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import { SPAN_KEY, withSpan, withValue } from './context-chain.js';
import { activeContext, runWithContext } from './context-scope.js';
import { getCorrelationId } from './correlation.js';
import { besideContrib, creationContext, safeCreationContext } from './creation.js';
import type { TelemetryRuntime } from './runtime.js';
import { endSpan, settleWith } from './settle.js';
import { startSpan } from './span-start.js';
import type { MessageDescription } from './types.js';

interface ProcessStart {
  span: Span;
  handlerContext: Context;
}

// Decides the span's parent and links: the creation context is always linked (semconv
// SHOULD); in 'parent' mode it is also the parent and an ambient span becomes a link; in
// 'link' mode the span starts a new trace.
function startProcess(
  runtime: TelemetryRuntime,
  description: MessageDescription,
  operationName: string,
): ProcessStart {
  const ambient = activeContext();
  const creation = creationContext(runtime, description, ambient);
  const creationSpan = trace.getSpanContext(creation);
  const links: Link[] = creationSpan !== undefined ? [{ context: creationSpan }] : [];
  let parent = creation;
  if (runtime.options.consumerSpanRelation === 'link') {
    if (creationSpan !== undefined) parent = withValue(creation, SPAN_KEY, undefined);
  } else {
    const ambientSpan = trace.getSpanContext(ambient);
    if (ambientSpan !== undefined && ambientSpan.spanId !== creationSpan?.spanId) {
      links.push({ context: ambientSpan });
    }
  }
  const span = startSpan(runtime, {
    description,
    operationName,
    operationType: 'process',
    kind: SpanKind.CONSUMER,
    parent,
    correlationId: getCorrelationId(creation),
    links,
  });
  const handlerContext = withSpan(parent, span);
  const hook = runtime.options.consumeHook;
  if (hook !== undefined) {
    runtime.diagnostics.guard('consumeHook', () =>
      hook(span, {
        destination: description.destination,
        message: description.message,
        description,
      }),
    );
  }
  if (runtime.metricsActive())
    runtime.recordTimeInQueue(description, operationName, handlerContext);
  return { span, handlerContext };
}

/**
 * Runs `handler` for one message inside a `process <destination>` CONSUMER span (see
 * {@link startProcess} for parent and links). The handler's result and errors pass
 * through unchanged; telemetry failures never reach it.
 */
export function processMessage<R>(
  runtime: TelemetryRuntime,
  description: MessageDescription,
  handler: (ctx: Context) => R,
): R {
  if (description.recordedByContrib !== undefined) {
    return processBesideContrib(runtime, description, handler);
  }
  if (!runtime.spansActive()) return processUntraced(runtime, description, handler);
  const operationName = description.operationName ?? 'process';
  const measured = runtime.metricsActive();
  const startMs = measured ? performance.now() : 0;
  let started: ProcessStart;
  try {
    started = startProcess(runtime, description, operationName);
  } catch (error) {
    runtime.diagnostics.warnOnce('process telemetry', error);
    const ctx = safeCreationContext(runtime, description, activeContext());
    return runWithContext(ctx, handler, ctx);
  }
  const { span, handlerContext } = started;
  return settleWith(
    () => runWithContext(handlerContext, handler, handlerContext),
    (error, failed) => {
      try {
        endSpan(span, error, failed, runtime);
        if (measured)
          finishProcess(
            runtime,
            description,
            operationName,
            startMs,
            error,
            failed,
            handlerContext,
          );
      } catch (telemetryError) {
        runtime.diagnostics.warnOnce('process telemetry', telemetryError);
      }
    },
  );
}

/** Records a finished process (of one message, or of a batch of `count`). */
export function finishProcess(
  runtime: TelemetryRuntime,
  description: MessageDescription,
  operationName: string,
  startMs: number,
  error: unknown,
  failed: boolean,
  context: Context,
  count = 1,
): void {
  runtime.finish({
    description,
    operationName,
    operationType: 'process',
    startMs,
    error,
    failed,
    counter: 'consumed',
    count,
    histogram: 'processDuration',
    context,
  });
}

/**
 * {@link processMessage} when no SDK is registered: the process span would be the API's
 * no-op span over the creation context, so the handler runs in the creation context
 * itself (in `'link'` mode without the producer's span, as a no-op root span would).
 * Metrics and hooks behave as with a span.
 */
function processUntraced<R>(
  runtime: TelemetryRuntime,
  description: MessageDescription,
  handler: (ctx: Context) => R,
): R {
  const operationName = description.operationName ?? 'process';
  let ctx = safeCreationContext(runtime, description, activeContext());
  if (runtime.options.consumerSpanRelation === 'link' && trace.getSpan(ctx) !== undefined) {
    ctx = withValue(ctx, SPAN_KEY, undefined);
  }
  const hook = runtime.options.consumeHook;
  if (hook !== undefined) {
    const span = trace.wrapSpanContext(trace.getSpanContext(ctx) ?? INVALID_SPAN_CONTEXT);
    runtime.diagnostics.guard('consumeHook', () =>
      hook(span, {
        destination: description.destination,
        message: description.message,
        description,
      }),
    );
  }
  if (!runtime.metricsActive()) return runWithContext(ctx, handler, ctx);
  const startMs = performance.now();
  runtime.recordTimeInQueue(description, operationName, ctx);
  const handlerContext = ctx;
  return settleWith(
    () => runWithContext(handlerContext, handler, handlerContext),
    (error, failed) =>
      runtime.diagnostics.guard('process telemetry', () =>
        finishProcess(runtime, description, operationName, startMs, error, failed, handlerContext),
      ),
  );
}

// `coexistence: 'contrib'`: the client's wrapper already started the process span and made
// it active. The handler runs in it, with the message's correlation id and baggage; Baton
// records time in queue, and counts only what the wrapper does not.
function processBesideContrib<R>(
  runtime: TelemetryRuntime,
  description: MessageDescription,
  handler: (ctx: Context) => R,
): R {
  const operationName = description.operationName ?? 'process';
  const metrics = runtime.options.metrics;
  const counted = metrics && description.recordedByContrib === 'span';
  const startMs = counted ? performance.now() : 0;
  const ctx = besideContrib(runtime, description, activeContext());
  if (metrics) {
    runtime.diagnostics.guard('process telemetry', () =>
      runtime.recordTimeInQueue(description, operationName, ctx),
    );
  }
  const run = () => runWithContext(ctx, handler, ctx);
  if (!counted) return run();
  return settleWith(run, (error, failed) =>
    runtime.diagnostics.guard('process telemetry', () =>
      finishProcess(runtime, description, operationName, startMs, error, failed, ctx),
    ),
  );
}
