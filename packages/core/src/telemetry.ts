import {
  type Context,
  type Link,
  propagation,
  type Span,
  SpanKind,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AttributeCache, errorType, messageAttributes, type OperationType } from './attributes.js';
import { readFirstHeader } from './carrier.js';
import { activeContext, runWithContext } from './context-scope.js';
import {
  CORRELATION_HEADER,
  createCorrelationId,
  getCorrelationId,
  setCorrelationId,
} from './correlation.js';
import { guard, warnOnce } from './diag.js';
import { InstrumentSource, withErrorType } from './metrics.js';
import { type ResolvedBatonOptions, resolveBatonOptions } from './options.js';
import { extractContext, injectContext } from './propagation.js';
import { EMPTY_HEADERS, elapsedSeconds, endSpan, settleWith } from './settle.js';
import type { BatonOptions, MessageDescription, PublishDescription } from './types.js';
import { parseTraceParent, TRACE_PARENT_HEADER } from './w3c/traceparent.js';

/** Gives the send callback an injected copy of any other headers object (batch sends). */
export type InjectHeaders = <H extends Record<string, unknown>>(
  headers: Readonly<H> | null | undefined,
) => H & Record<string, string>;

/** What user code handling a batch can do with each message. */
export interface BatchScope {
  /** Each message's own context (its creation context and correlation id), by index. */
  readonly contexts: readonly Context[];
  /** Runs `fn` inside message `index`'s context, so its logs and spans join that trace. */
  runInMessageContext<R>(index: number, fn: () => R): R;
}

/** Identifies the instrumentation scope (the adapter package) of a telemetry instance. */
export interface InstrumentationScope {
  name: string;
  version: string;
}

/**
 * All of Baton's messaging semantics, the same for every bus. Adapters describe messages
 * with {@link MessageDescription} and call these methods around the client's calls.
 * Telemetry failures never reach user code: they become one `diag` warning each.
 */
export class MessagingTelemetry {
  readonly options: ResolvedBatonOptions;
  readonly tracer: Tracer;
  readonly instruments: InstrumentSource;
  private readonly attributes: AttributeCache;

  constructor(scope: InstrumentationScope, options?: BatonOptions) {
    this.options = resolveBatonOptions(options, scope.name);
    this.tracer = (this.options.tracerProvider ?? trace.getTracerProvider()).getTracer(
      scope.name,
      scope.version,
    );
    this.instruments = new InstrumentSource(scope.name, scope.version, this.options.meterProvider);
    this.attributes = new AttributeCache(this.options.semconvStability);
  }

  // Starts a span with the shared low-cardinality attributes; the per-message ones are set
  // only when the span records (with no SDK, nothing per message is built).
  private startSpan(
    description: MessageDescription,
    operationName: string,
    operationType: OperationType,
    kind: SpanKind,
    parent: Context,
    correlationId: string | undefined,
    links?: Link[],
    messageCount?: number,
  ): Span {
    const span = this.tracer.startSpan(
      `${operationName} ${description.destination}`,
      {
        kind,
        attributes: this.attributes.get(description, operationName, operationType),
        ...(links !== undefined && links.length > 0 && { links }),
        ...(operationType === 'process' &&
          this.options.consumerSpanRelation === 'link' &&
          links !== undefined && { root: true }),
      },
      parent,
    );
    if (span.isRecording()) {
      const extra = messageAttributes(
        description,
        this.options.semconvStability,
        correlationId,
        messageCount,
      );
      if (extra !== undefined) span.setAttributes(extra);
    }
    return span;
  }

  // Records the metrics of a finished operation: count (if any), duration, error.type.
  private recordMetrics(
    description: MessageDescription,
    operationName: string,
    operationType: OperationType,
    startMs: number,
    error: unknown,
    failed: boolean,
    counter: 'sent' | 'consumed' | undefined,
    histogram: 'operationDuration' | 'processDuration',
    count = 1,
  ): void {
    if (!this.options.metrics) return;
    const instruments = this.instruments.get();
    const attributes = withErrorType(
      this.attributes.get(description, operationName, operationType),
      failed ? errorType(error) : undefined,
    );
    if (counter !== undefined) instruments[counter].add(count, attributes);
    instruments[histogram].record(elapsedSeconds(startMs), attributes);
  }

  /**
   * Publishes inside a `send <destination>` PRODUCER span. `send` receives a copy of
   * `description.headers` with the context injected, and an injector for further header
   * objects (one per message of a batch). Ends when `send` returns or its promise settles.
   */
  publish<R>(
    description: PublishDescription,
    send: (headers: Record<string, unknown>, inject: InjectHeaders, ctx: Context) => R,
  ): R {
    const operationName = description.operationName ?? 'send';
    const startMs = this.options.metrics ? performance.now() : 0;
    let span: Span | undefined;
    let sendContext: Context = activeContext();
    try {
      let correlationId = getCorrelationId(sendContext);
      if (correlationId === undefined) {
        correlationId = createCorrelationId();
        sendContext = setCorrelationId(sendContext, correlationId);
      }
      const count = description.messageCount;
      span = this.startSpan(
        description,
        operationName,
        'send',
        SpanKind.PRODUCER,
        sendContext,
        correlationId,
        this.userCreationLinks(description),
        count !== undefined && count !== 1 ? count : undefined,
      );
      sendContext = trace.setSpan(sendContext, span);
    } catch (error) {
      warnOnce('publish telemetry', error);
      span = undefined;
    }
    // Even without a span (a broken tracer), the context and correlation id still travel.
    const ctx = sendContext;
    const inject: InjectHeaders = (given) => {
      try {
        return this.injectInto(given, ctx, description);
      } catch (error) {
        warnOnce('header injection', error);
        return { ...given } as never;
      }
    };
    const headers =
      description.injectHeaders === false
        ? EMPTY_HEADERS
        : inject(description.headers as Record<string, unknown> | undefined);
    const hook = this.options.publishHook;
    if (hook && span !== undefined) {
      const hookSpan = span;
      guard('publishHook', () => hook(hookSpan, { description, headers }));
    }
    const started = span;
    // Client calls run inside the send span, so a client's own instrumentation nests under
    // it; an in-process send has no client call and gets the context as an argument.
    const call =
      description.injectHeaders === false
        ? () => send(headers, inject, ctx)
        : () => runWithContext(ctx, send, headers, inject, ctx);
    if (started === undefined) return call();
    return settleWith(call, (error, failed) => {
      try {
        endSpan(started, error, failed);
        this.recordMetrics(
          description,
          operationName,
          'send',
          startMs,
          error,
          failed,
          'sent',
          'operationDuration',
          description.messageCount ?? 1,
        );
      } catch (telemetryError) {
        warnOnce('publish telemetry', telemetryError);
      }
    });
  }

  /**
   * Runs `handler` for one message inside a `process <destination>` CONSUMER span whose
   * parent is the message's creation context (or a new trace linked to it, with
   * `consumerSpanRelation: 'link'`). The handler's result and errors pass through unchanged.
   */
  process<R>(description: MessageDescription, handler: (ctx: Context) => R): R {
    const operationName = description.operationName ?? 'process';
    const startMs = this.options.metrics ? performance.now() : 0;
    let span: Span | undefined;
    let handlerContext: Context;
    try {
      const ambient = activeContext();
      const creation = this.creationContext(description, ambient);
      const creationSpan = trace.getSpanContext(creation);
      const ambientSpan = trace.getSpanContext(ambient);
      let links: Link[] | undefined;
      let parent: Context;
      if (this.options.consumerSpanRelation === 'link') {
        links = creationSpan ? [{ context: creationSpan }] : [];
        parent = trace.deleteSpan(creation);
      } else {
        parent = creation;
        if (ambientSpan && ambientSpan.spanId !== creationSpan?.spanId) {
          links = [{ context: ambientSpan }];
        }
      }
      span = this.startSpan(
        description,
        operationName,
        'process',
        SpanKind.CONSUMER,
        parent,
        getCorrelationId(creation),
        links,
      );
      handlerContext = trace.setSpan(parent, span);
      const hook = this.options.consumeHook;
      if (hook) {
        const hookSpan = span;
        guard('consumeHook', () => hook(hookSpan, { description }));
      }
      if (this.options.metrics) this.recordTimeInQueue(description, operationName);
    } catch (error) {
      warnOnce('process telemetry', error);
      span = undefined;
      handlerContext = this.safeCreationContext(description);
    }
    const started = span;
    if (started === undefined) return runWithContext(handlerContext, handler, handlerContext);
    return settleWith(
      () => runWithContext(handlerContext, handler, handlerContext),
      (error, failed) => {
        try {
          endSpan(started, error, failed);
          this.recordMetrics(
            description,
            operationName,
            'process',
            startMs,
            error,
            failed,
            'consumed',
            'processDuration',
          );
        } catch (telemetryError) {
          warnOnce('process telemetry', telemetryError);
        }
      },
    );
  }

  /**
   * Runs `handler` for a batch inside ONE `process <destination>` span with a link to each
   * message's creation context; `handler` gets each message's own context through
   * {@link BatchScope.runInMessageContext}.
   */
  processBatch<R>(
    batch: MessageDescription,
    messages: readonly MessageDescription[],
    handler: (scope: BatchScope) => R,
  ): R {
    const operationName = batch.operationName ?? 'process';
    const startMs = this.options.metrics ? performance.now() : 0;
    const ambient = activeContext();
    const contexts: Context[] = messages.map((message) =>
      this.safeCreationContext(message, ambient),
    );
    let span: Span | undefined;
    let batchContext = ambient;
    try {
      const links: Link[] = [];
      for (const ctx of contexts) {
        const spanContext = trace.getSpanContext(ctx);
        if (spanContext) links.push({ context: spanContext });
      }
      span = this.startSpan(
        batch,
        operationName,
        'process',
        SpanKind.CONSUMER,
        ambient,
        getCorrelationId(ambient),
        links,
        messages.length,
      );
      batchContext = trace.setSpan(ambient, span);
      if (this.options.consumerSpanRelation === 'link') {
        // New traces per message would have no parent; run them under the batch span.
        for (let i = 0; i < contexts.length; i++) {
          const own = contexts[i] as Context;
          contexts[i] = setCorrelationId(
            batchContext,
            getCorrelationId(own) ?? createCorrelationId(),
          );
        }
      }
      if (this.options.metrics) {
        for (const message of messages) this.recordTimeInQueue(message, operationName);
      }
    } catch (error) {
      warnOnce('batch telemetry', error);
      span = undefined;
    }
    const scope: BatchScope = {
      contexts,
      runInMessageContext: (index, fn) => {
        const ctx = contexts[index];
        return ctx === undefined ? fn() : runWithContext(ctx, fn);
      },
    };
    const started = span;
    if (started === undefined) return runWithContext(batchContext, handler, scope);
    return settleWith(
      () => runWithContext(batchContext, handler, scope),
      (error, failed) =>
        guard('batch telemetry', () => {
          endSpan(started, error, failed);
          this.recordMetrics(
            batch,
            operationName,
            'process',
            startMs,
            error,
            failed,
            'consumed',
            'processDuration',
            messages.length,
          );
        }),
    );
  }

  /**
   * Runs a client operation that is neither publish nor process (a pull `receive`, an
   * `ack` / `nack` settle) in a CLIENT span named `{operation} {destination}`, and records
   * `messaging.client.operation.duration`. `fn` gets the span (undefined if it could
   * not start), e.g. to link a received message with `span.addLink`.
   */
  clientOperation<R>(
    operationType: Extract<OperationType, 'receive' | 'settle'>,
    description: MessageDescription & { operationName: string },
    fn: (span: Span | undefined) => R,
    parent: Context = activeContext(),
  ): R {
    const startMs = this.options.metrics ? performance.now() : 0;
    let span: Span | undefined;
    try {
      span = this.startSpan(
        description,
        description.operationName,
        operationType,
        SpanKind.CLIENT,
        parent,
        getCorrelationId(parent),
      );
    } catch (error) {
      warnOnce(`${operationType} telemetry`, error);
    }
    const started = span;
    if (started === undefined) return fn(undefined);
    return settleWith(
      () => runWithContext(trace.setSpan(parent, started), fn, started),
      (error, failed) =>
        guard(`${operationType} telemetry`, () => {
          endSpan(started, error, failed);
          this.recordMetrics(
            description,
            description.operationName,
            operationType,
            startMs,
            error,
            failed,
            undefined,
            'operationDuration',
          );
        }),
    );
  }

  /**
   * Records `messaging.client.operation.duration` for an operation an adapter timed itself
   * without a span of its own (e.g. an ack written as an event on the process span).
   * `startMs` is a `performance.now()` reading.
   */
  recordOperationDuration(
    operationType: OperationType,
    description: MessageDescription & { operationName: string },
    startMs: number,
  ): void {
    guard('operation metrics', () =>
      this.recordMetrics(
        description,
        description.operationName,
        operationType,
        startMs,
        undefined,
        false,
        undefined,
        'operationDuration',
      ),
    );
  }

  /**
   * Starts and ends a `create <destination>` PRODUCER span (the semconv create operation,
   * one per message of a batch) under `parent`, and returns the message's creation context:
   * `parent` with that span. Inject it into the message so its consumers descend from it.
   * On a telemetry failure, returns `parent`.
   */
  createContext(description: MessageDescription, parent: Context = activeContext()): Context {
    try {
      const span = this.startSpan(
        description,
        description.operationName ?? 'create',
        'create',
        SpanKind.PRODUCER,
        parent,
        getCorrelationId(parent),
      );
      span.end();
      return trace.setSpan(parent, span);
    } catch (error) {
      warnOnce('create telemetry', error);
      return parent;
    }
  }

  /**
   * The context a message was created in: its producer's span, baggage and correlation id
   * (in `'link'` mode incoming baggage is dropped). For people with their own consume loop.
   */
  messageContext(description: MessageDescription, base: Context = activeContext()): Context {
    return this.safeCreationContext(description, base);
  }

  private creationContext(description: MessageDescription, base: Context): Context {
    if (description.context !== undefined) {
      let ctx = description.context;
      // At a trust boundary the producer's baggage is not trusted, object or headers alike.
      if (this.options.consumerSpanRelation === 'link') ctx = propagation.deleteBaggage(ctx);
      return getCorrelationId(ctx) === undefined
        ? setCorrelationId(ctx, createCorrelationId())
        : ctx;
    }
    return extractContext(description.headers, base, {
      ...(this.options.propagator && { propagator: this.options.propagator }),
      dropBaggage: this.options.consumerSpanRelation === 'link',
    });
  }

  private safeCreationContext(description: MessageDescription, base = activeContext()): Context {
    try {
      return this.creationContext(description, base);
    } catch (error) {
      warnOnce('context extraction', error);
      return setCorrelationId(base, createCorrelationId());
    }
  }

  private injectInto<H extends Record<string, unknown>>(
    given: Readonly<H> | null | undefined,
    ctx: Context,
    description: PublishDescription,
  ): H & Record<string, string> {
    let headers: Record<string, unknown>;
    const existing = readFirstHeader(given, TRACE_PARENT_HEADER);
    if (description.preserveExistingContext && existing && parseTraceParent(existing)) {
      // The user's own creation context wins; only a missing correlation id is added.
      headers = { ...given };
      if (readFirstHeader(given, CORRELATION_HEADER) === undefined) {
        headers[CORRELATION_HEADER] = getCorrelationId(ctx);
      }
    } else {
      headers = injectContext(given, ctx, {
        ...(this.options.propagator && { propagator: this.options.propagator }),
      });
    }
    const timeHeader = description.publishTimeHeader;
    if (timeHeader !== undefined && readFirstHeader(headers, timeHeader) === undefined) {
      headers[timeHeader] = String(Date.now());
    }
    return headers as H & Record<string, string>;
  }

  private userCreationLinks(description: PublishDescription): Link[] | undefined {
    const given = description.links;
    if (!description.preserveExistingContext) return given;
    const existing = readFirstHeader(description.headers, TRACE_PARENT_HEADER);
    const parsed = existing ? parseTraceParent(existing) : null;
    if (!parsed) return given;
    return given === undefined ? [{ context: parsed }] : [...given, { context: parsed }];
  }

  private recordTimeInQueue(description: MessageDescription, operationName: string): void {
    const created = description.timestampMs;
    if (created === undefined || !Number.isFinite(created)) return;
    // Clocks of producer and consumer hosts differ; a negative wait is recorded as 0.
    const seconds = Math.max(0, Date.now() - created) / 1000;
    this.instruments
      .get()
      .timeInQueue.record(seconds, this.attributes.get(description, operationName, 'process'));
  }
}
