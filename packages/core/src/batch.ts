import { type Context, type Link, type Span, SpanKind, trace } from '@opentelemetry/api';
import { withSpan } from './context-chain.js';
import { activeContext, runWithContext } from './context-scope.js';
import { createCorrelationId, getCorrelationId, setCorrelationId } from './correlation.js';
import { safeCreationContext } from './creation.js';
import { rememberMessageContext } from './message-context.js';
import { finishProcess } from './process.js';
import type { TelemetryRuntime } from './runtime.js';
import { endSpan, settleWith } from './settle.js';
import { startSpan } from './span-start.js';
import type { MessageDescription } from './types.js';

/** What user code handling a batch can do with each message. */
export interface BatchScope {
  /** Each message's own context (its creation context and correlation id), by index. */
  readonly contexts: readonly Context[];
  /** Runs `fn` inside message `index`'s context, so its logs and spans join that trace. */
  runInMessageContext<R>(index: number, fn: () => R): R;
}

/**
 * Runs `handler` for a batch inside ONE `process <destination>` CONSUMER span with a link
 * to each message's creation context. Each message's own context is reachable by index
 * through the {@link BatchScope} and by the message object through
 * `runInMessageContext(message, fn)`. In `'link'` mode a message's context is the batch
 * span with the message's correlation id (its producer's trace is only linked).
 */
export function processBatch<R>(
  runtime: TelemetryRuntime,
  batch: MessageDescription,
  messages: readonly MessageDescription[],
  handler: (scope: BatchScope) => R,
): R {
  const operationName = batch.operationName ?? 'process';
  const metrics = runtime.options.metrics;
  const startMs = metrics ? performance.now() : 0;
  const ambient = activeContext();
  const contexts: Context[] = messages.map((message) =>
    safeCreationContext(runtime, message, ambient),
  );
  if (batch.recordedByContrib !== undefined) {
    return batchBesideContrib(runtime, { batch, messages, contexts, ambient, startMs }, handler);
  }
  let span: Span | undefined;
  let batchContext = ambient;
  try {
    const links: Link[] = [];
    for (const ctx of contexts) {
      const spanContext = trace.getSpanContext(ctx);
      if (spanContext !== undefined) links.push({ context: spanContext });
    }
    span = startSpan(runtime, {
      description: batch,
      operationName,
      operationType: 'process',
      kind: SpanKind.CONSUMER,
      parent: ambient,
      correlationId: getCorrelationId(ambient),
      links,
      messageCount: messages.length,
    });
    batchContext = withSpan(ambient, span);
    if (runtime.options.consumerSpanRelation === 'link') {
      // New traces per message would have no parent; run them under the batch span.
      for (let i = 0; i < contexts.length; i++) {
        const own = contexts[i] as Context;
        contexts[i] = setCorrelationId(
          batchContext,
          getCorrelationId(own) ?? createCorrelationId(),
        );
      }
    }
    const hook = runtime.options.consumeHook;
    if (hook !== undefined) {
      const hookSpan = span;
      runtime.diagnostics.guard('consumeHook', () =>
        hook(hookSpan, {
          destination: batch.destination,
          message: batch.message,
          description: batch,
        }),
      );
    }
    if (metrics) recordTimesInQueue(runtime, messages, operationName, contexts);
  } catch (error) {
    runtime.diagnostics.warnOnce('batch telemetry', error);
    span = undefined;
  }
  const scope = batchScope(messages, contexts);
  const started = span;
  if (started === undefined) return runWithContext(batchContext, handler, scope);
  const finalContext = batchContext;
  return settleWith(
    () => runWithContext(finalContext, handler, scope),
    (error, failed) =>
      runtime.diagnostics.guard('batch telemetry', () => {
        endSpan(started, error, failed, runtime);
        const { length } = messages;
        finishProcess(runtime, batch, operationName, startMs, error, failed, finalContext, length);
      }),
  );
}

function recordTimesInQueue(
  runtime: TelemetryRuntime,
  messages: readonly MessageDescription[],
  operationName: string,
  contexts: readonly Context[],
): void {
  for (let i = 0; i < messages.length; i++) {
    runtime.recordTimeInQueue(
      messages[i] as MessageDescription,
      operationName,
      contexts[i] as Context,
    );
  }
}

// Each message's own context, by index and by its native message object.
function batchScope(messages: readonly MessageDescription[], contexts: Context[]): BatchScope {
  for (let i = 0; i < messages.length; i++) {
    rememberMessageContext(messages[i]?.message, contexts[i] as Context);
  }
  return {
    contexts,
    runInMessageContext: (index, fn) => {
      const ctx = contexts[index];
      return ctx === undefined ? fn() : runWithContext(ctx, fn);
    },
  };
}

interface BatchStart {
  batch: MessageDescription;
  messages: readonly MessageDescription[];
  contexts: Context[];
  ambient: Context;
  startMs: number;
}

// `coexistence: 'contrib'`: the client's wrapper made the batch's spans (kafkajs: a `poll`
// span, active while the handler runs, and one `process` span per message). Baton adds what
// it lacks: each message's own context for `runInMessageContext`, and time in queue; it
// counts only what the wrapper does not.
function batchBesideContrib<R>(
  runtime: TelemetryRuntime,
  start: BatchStart,
  handler: (scope: BatchScope) => R,
): R {
  const { batch, messages, contexts, ambient, startMs } = start;
  const operationName = batch.operationName ?? 'process';
  const metrics = runtime.options.metrics;
  if (metrics) {
    runtime.diagnostics.guard('batch telemetry', () =>
      recordTimesInQueue(runtime, messages, operationName, contexts),
    );
  }
  if (runtime.options.consumerSpanRelation === 'link') {
    // No producer's trace to join: each message keeps its correlation id, under the batch.
    for (let i = 0; i < contexts.length; i++) {
      const own = contexts[i] as Context;
      contexts[i] = setCorrelationId(ambient, getCorrelationId(own) ?? createCorrelationId());
    }
  }
  const scope = batchScope(messages, contexts);
  const run = () => runWithContext(ambient, handler, scope);
  if (!metrics || batch.recordedByContrib !== 'span') return run();
  return settleWith(run, (error, failed) =>
    runtime.diagnostics.guard('batch telemetry', () =>
      finishProcess(
        runtime,
        batch,
        operationName,
        startMs,
        error,
        failed,
        ambient,
        messages.length,
      ),
    ),
  );
}
