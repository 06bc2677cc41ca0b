import {
  type Context,
  INVALID_SPAN_CONTEXT,
  type Link,
  type Span,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import { readFirstHeader } from './carrier.js';
import { withSpan } from './context-chain.js';
import { activeContext, runWithContext } from './context-scope.js';
import {
  CORRELATION_HEADER,
  createCorrelationId,
  getCorrelationId,
  setCorrelationId,
} from './correlation.js';
import { injectContext } from './propagation.js';
import type { TelemetryRuntime } from './runtime.js';
import { EMPTY_HEADERS, endSpan, settleWith } from './settle.js';
import { startSpan } from './span-start.js';
import type { PublishDescription } from './types.js';
import { parseTraceParent, TRACE_PARENT_HEADER } from './w3c/traceparent.js';

/** Gives the send callback an injected copy of any other headers object (batch sends). */
export type InjectHeaders = <H extends Record<string, unknown>>(
  headers: Readonly<H> | null | undefined,
) => H & Record<string, string>;

/** The `send` callback of {@link publish}: calls the client with the prepared headers. */
export type SendCallback<R> = (
  headers: Record<string, unknown>,
  inject: InjectHeaders,
  ctx: Context,
) => R;

// The creation context a caller put on the message itself, when it is to be kept.
function existingCreation(
  description: PublishDescription,
  headers: Readonly<Record<string, unknown>> | null | undefined,
) {
  if (!description.preserveExistingContext) return null;
  const existing = readFirstHeader(headers, TRACE_PARENT_HEADER);
  return existing ? parseTraceParent(existing) : null;
}

function prepareHeaders(
  runtime: TelemetryRuntime,
  given: Readonly<Record<string, unknown>> | null | undefined,
  ctx: Context,
  description: PublishDescription,
): Record<string, unknown> {
  // The message keeps the context it carries, byte for byte.
  if (description.sendRole === 'transport') return { ...given };
  let headers: Record<string, unknown>;
  if (existingCreation(description, given) !== null) {
    // The user's own creation context wins; only a missing correlation id is added.
    headers = { ...given };
    if (readFirstHeader(given, CORRELATION_HEADER) === undefined) {
      headers[CORRELATION_HEADER] = getCorrelationId(ctx);
    }
  } else {
    const propagator = runtime.options.propagator;
    headers = injectContext(given, ctx, propagator ? { propagator } : {});
  }
  const timeHeader = description.publishTimeHeader;
  if (timeHeader !== undefined && readFirstHeader(headers, timeHeader) === undefined) {
    headers[timeHeader] = String(Date.now());
  }
  return headers;
}

/**
 * Publishes inside a `send <destination>` span: PRODUCER when the send creates the
 * messages, CLIENT when they keep a creation context of their own (`sendRole:
 * 'transport'`, or a valid `traceparent` kept with `preserveExistingContext`). `send`
 * receives a copy of `description.headers` with the context injected, and an injector for
 * further header objects (one per message of a batch). Ends when `send` returns or its
 * promise settles; its result and errors pass through unchanged.
 */
export function publish<R>(
  runtime: TelemetryRuntime,
  description: PublishDescription,
  send: SendCallback<R>,
): R {
  if (description.recordedByContrib !== undefined) {
    return publishBesideContrib(runtime, description, send);
  }
  if (!runtime.spansActive()) return publishUntraced(runtime, description, send);
  const operationName = description.operationName ?? 'send';
  const measured = runtime.metricsActive();
  const startMs = measured ? performance.now() : 0;
  const existing = existingCreation(description, description.headers);
  let span: Span | undefined;
  let sendContext: Context = withCorrelation(activeContext());
  try {
    let links: Link[] | undefined = description.links;
    // A kept creation context is linked; so is the one a forwarded message carries.
    const carried =
      existing ??
      (description.sendRole === 'transport' && links === undefined
        ? parseTraceParent(readFirstHeader(description.headers, TRACE_PARENT_HEADER))
        : null);
    if (carried !== null) {
      links = links === undefined ? [{ context: carried }] : [...links, { context: carried }];
    }
    const count = description.messageCount;
    span = startSpan(runtime, {
      description,
      operationName,
      operationType: 'send',
      kind:
        existing !== null || description.sendRole === 'transport'
          ? SpanKind.CLIENT
          : SpanKind.PRODUCER,
      parent: sendContext,
      correlationId: getCorrelationId(sendContext),
      links,
      messageCount: count !== undefined && count !== 1 ? count : undefined,
    });
    sendContext = withSpan(sendContext, span);
  } catch (error) {
    runtime.diagnostics.warnOnce('publish telemetry', error);
    span = undefined;
  }
  // Even without a span (a broken tracer), the context and correlation id still travel.
  const ctx = sendContext;
  const inject = injector(runtime, ctx, description);
  const headers = headersToSend(description, inject);
  if (span !== undefined) callPublishHook(runtime, span, description, headers);
  const started = span;
  // Client calls run inside the send span, so a client's own instrumentation nests under
  // it; an in-process send has no client call and gets the context as an argument.
  const call =
    description.injectHeaders === false
      ? () => send(headers, inject, ctx)
      : () => runWithContext(ctx, send, headers, inject, ctx);
  if (started === undefined && !measured) return call();
  return settleWith(call, (error, failed, value) => {
    try {
      if (started !== undefined) {
        const onSent = description.onSent;
        if (onSent !== undefined && !failed && started.isRecording()) {
          runtime.diagnostics.guard('onSent', () => onSent(started, value));
        }
        endSpan(started, error, failed, runtime);
      }
      if (measured) finishSend(runtime, description, operationName, startMs, error, failed, ctx);
    } catch (telemetryError) {
      runtime.diagnostics.warnOnce('publish telemetry', telemetryError);
    }
  });
}

// The active context with a correlation id: its own, or a new one.
function withCorrelation(ctx: Context): Context {
  return getCorrelationId(ctx) === undefined ? setCorrelationId(ctx, createCorrelationId()) : ctx;
}

function injector(
  runtime: TelemetryRuntime,
  ctx: Context,
  description: PublishDescription,
): InjectHeaders {
  return (given) => {
    try {
      return prepareHeaders(runtime, given, ctx, description) as never;
    } catch (error) {
      runtime.diagnostics.warnOnce('header injection', error);
      return { ...given } as never;
    }
  };
}

// The headers `send` receives: the caller's with the context injected, or none in process.
function headersToSend(
  description: PublishDescription,
  inject: InjectHeaders,
): Record<string, unknown> {
  return description.injectHeaders === false
    ? EMPTY_HEADERS
    : inject(description.headers as Record<string, unknown> | undefined);
}

function callPublishHook(
  runtime: TelemetryRuntime,
  span: Span,
  description: PublishDescription,
  headers: Record<string, unknown>,
): void {
  const hook = runtime.options.publishHook;
  if (hook === undefined) return;
  runtime.diagnostics.guard('publishHook', () =>
    hook(span, {
      destination: description.destination,
      message: description.message,
      headers,
      description,
    }),
  );
}

function finishSend(
  runtime: TelemetryRuntime,
  description: PublishDescription,
  operationName: string,
  startMs: number,
  error: unknown,
  failed: boolean,
  context: Context,
): void {
  runtime.finish({
    description,
    operationName,
    operationType: 'send',
    startMs,
    error,
    failed,
    counter: 'sent',
    count: description.messageCount ?? 1,
    histogram: 'operationDuration',
    context,
  });
}

/**
 * {@link publish} when no SDK is registered: a send span would be the API's no-op span
 * over the caller's own span context, so Baton carries that context and the correlation
 * id itself, makes no span, and does not re-enter a context to call the client (nothing
 * there could read it). Metrics and hooks behave as with a span.
 */
function publishUntraced<R>(
  runtime: TelemetryRuntime,
  description: PublishDescription,
  send: SendCallback<R>,
): R {
  const ctx = withCorrelation(activeContext());
  const inject = injector(runtime, ctx, description);
  const headers = headersToSend(description, inject);
  if (runtime.options.publishHook !== undefined) {
    const span = trace.wrapSpanContext(trace.getSpanContext(ctx) ?? INVALID_SPAN_CONTEXT);
    callPublishHook(runtime, span, description, headers);
  }
  if (!runtime.metricsActive()) return send(headers, inject, ctx);
  const operationName = description.operationName ?? 'send';
  const startMs = performance.now();
  return settleWith(
    () => send(headers, inject, ctx),
    (error, failed) =>
      runtime.diagnostics.guard('publish telemetry', () =>
        finishSend(runtime, description, operationName, startMs, error, failed, ctx),
      ),
  );
}

// `coexistence: 'contrib'`: the client's wrapper starts the send span, inside the call. Baton
// injects its headers first (the wrapper then writes its own `traceparent` over Baton's,
// which names the caller's span) and counts only what the wrapper does not.
function publishBesideContrib<R>(
  runtime: TelemetryRuntime,
  description: PublishDescription,
  send: SendCallback<R>,
): R {
  const operationName = description.operationName ?? 'send';
  const metrics = description.recordedByContrib === 'span' && runtime.metricsActive();
  const startMs = metrics ? performance.now() : 0;
  const ctx = withCorrelation(activeContext());
  const inject = injector(runtime, ctx, description);
  const headers = headersToSend(description, inject);
  const sendContext = ctx;
  const call = () => runWithContext(sendContext, send, headers, inject, sendContext);
  if (!metrics) return call();
  return settleWith(call, (error, failed) =>
    runtime.diagnostics.guard('publish telemetry', () =>
      finishSend(runtime, description, operationName, startMs, error, failed, sendContext),
    ),
  );
}
