import { type Context, type Span, SpanKind } from '@opentelemetry/api';
import type { OperationType } from './attributes.js';
import { withSpan } from './context-chain.js';
import { runWithContext } from './context-scope.js';
import { getCorrelationId } from './correlation.js';
import type { TelemetryRuntime } from './runtime.js';
import { endSpan, settleWith } from './settle.js';
import { startSpan } from './span-start.js';
import type { MessageDescription } from './types.js';

/** A description whose operation name is known (`receive`, `ack`, `nack`, `commit`...). */
export type NamedOperation = MessageDescription & { operationName: string };

/**
 * Runs a client operation that is neither publish nor process (a pull `receive`, an
 * `ack` / `nack` settle, an offset commit) in a CLIENT span named
 * `{operation} {destination}`, and records `messaging.client.operation.duration`. `fn`
 * gets the span (undefined if it could not start), e.g. to link a received message.
 */
export function clientOperation<R>(
  runtime: TelemetryRuntime,
  operationType: Extract<OperationType, 'receive' | 'settle'>,
  description: NamedOperation,
  fn: (span: Span | undefined) => R,
  parent: Context,
): R {
  const startMs = runtime.options.metrics ? performance.now() : 0;
  let span: Span | undefined;
  try {
    span = startSpan(runtime, {
      description,
      operationName: description.operationName,
      operationType,
      kind: SpanKind.CLIENT,
      parent,
      correlationId: getCorrelationId(parent),
    });
  } catch (error) {
    runtime.diagnostics.warnOnce(`${operationType} telemetry`, error);
  }
  const started = span;
  if (started === undefined) return fn(undefined);
  const ctx = withSpan(parent, started);
  return settleWith(
    () => runWithContext(ctx, fn, started),
    (error, failed) =>
      runtime.diagnostics.guard(`${operationType} telemetry`, () => {
        endSpan(started, error, failed, runtime);
        runtime.finish({
          description,
          operationName: description.operationName,
          operationType,
          startMs,
          error,
          failed,
          histogram: 'operationDuration',
          context: ctx,
        });
      }),
  );
}

/**
 * Starts and ends a `create <destination>` PRODUCER span (the semconv create operation,
 * one per message of a batch) under `parent`, and returns the message's creation context:
 * `parent` with that span. On a telemetry failure, returns `parent`.
 */
export function createContext(
  runtime: TelemetryRuntime,
  description: MessageDescription,
  parent: Context,
): Context {
  try {
    const span = startSpan(runtime, {
      description,
      operationName: description.operationName ?? 'create',
      operationType: 'create',
      kind: SpanKind.PRODUCER,
      parent,
      correlationId: getCorrelationId(parent),
    });
    span.end();
    return withSpan(parent, span);
  } catch (error) {
    runtime.diagnostics.warnOnce('create telemetry', error);
    return parent;
  }
}
