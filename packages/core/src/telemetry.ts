import { type Context, type Span, type Tracer, trace } from '@opentelemetry/api';
import type { ErrorTypeOf, OperationType } from './attributes.js';
import { type BatchScope, processBatch } from './batch.js';
import { clientOperation, createContext, type NamedOperation } from './client-operation.js';
import { type Coexistence, isShimmed } from './coexistence.js';
import { activeContext } from './context-scope.js';
import { safeCreationContext } from './creation.js';
import type { Diagnostics } from './diag.js';
import { InstrumentSource } from './metrics.js';
import { type ResolvedBatonOptions, resolveBatonOptions } from './options.js';
import { processMessage } from './process.js';
import { publish, type SendCallback } from './publish.js';
import { TelemetryRuntime } from './runtime.js';
import type { BatonOptions, ErrorInfo, MessageDescription, PublishDescription } from './types.js';

/** Identifies the instrumentation scope (the adapter package) of a telemetry instance. */
export interface InstrumentationScope {
  /** The adapter's package name: the tracer/meter scope and the prefix of its diagnostics. */
  name: string;
  version: string;
  /**
   * The adapter's own `error.type` for errors its client defines (e.g. kafkajs's error
   * type codes); `undefined` falls back to the error's class name.
   */
  errorType?: ErrorTypeOf;
}

/**
 * All of Baton's messaging semantics, the same for every bus. Adapters describe messages
 * with {@link MessageDescription} and call these methods around the client's calls.
 * Telemetry failures never reach user code: they become one `diag` warning per kind,
 * prefixed with the adapter's package name.
 */
export class MessagingTelemetry {
  readonly options: ResolvedBatonOptions;
  readonly tracer: Tracer;
  readonly instruments: InstrumentSource;
  readonly diagnostics: Diagnostics;
  private readonly runtime: TelemetryRuntime;
  private coexistenceNoted = false;

  constructor(scope: InstrumentationScope, options?: BatonOptions) {
    this.options = resolveBatonOptions(options, scope.name);
    this.tracer = (this.options.tracerProvider ?? trace.getTracerProvider()).getTracer(
      scope.name,
      scope.version,
    );
    this.instruments = new InstrumentSource(scope.name, scope.version, this.options.meterProvider);
    this.runtime = new TelemetryRuntime(
      this.options,
      this.tracer,
      this.instruments,
      scope.name,
      scope.errorType,
    );
    this.diagnostics = this.runtime.diagnostics;
  }

  /** See {@link publish}. */
  publish<R>(description: PublishDescription, send: SendCallback<R>): R {
    return publish(this.runtime, description, send);
  }

  /**
   * Runs `handler` for one message inside a `process <destination>` CONSUMER span that
   * links the message's creation context and, by default, is its child (one trace).
   */
  process<R>(description: MessageDescription, handler: (ctx: Context) => R): R {
    return processMessage(this.runtime, description, handler);
  }

  /** See {@link processBatch}. */
  processBatch<R>(
    batch: MessageDescription,
    messages: readonly MessageDescription[],
    handler: (scope: BatchScope) => R,
  ): R {
    return processBatch(this.runtime, batch, messages, handler);
  }

  /** See {@link clientOperation}. */
  clientOperation<R>(
    operationType: Extract<OperationType, 'receive' | 'settle'>,
    description: NamedOperation,
    fn: (span: Span | undefined) => R,
    parent: Context = activeContext(),
  ): R {
    return clientOperation(this.runtime, operationType, description, fn, parent);
  }

  /**
   * Records `messaging.client.operation.duration` for an operation an adapter timed itself
   * without a span of its own (e.g. an ack written as an event on the process span, an
   * `XACK`, an offset commit). `startMs` is a `performance.now()` reading; `error` makes
   * the point carry `error.type` (`failed` defaults to whether an `error` is given).
   */
  recordOperationDuration(
    operationType: OperationType,
    description: NamedOperation,
    startMs: number,
    outcome: { error?: unknown; failed?: boolean; context?: Context } = {},
  ): void {
    this.diagnostics.guard('operation metrics', () =>
      this.runtime.finish({
        description,
        operationName: description.operationName,
        operationType,
        startMs,
        error: outcome.error,
        failed: outcome.failed ?? outcome.error !== undefined,
        histogram: 'operationDuration',
        context: outcome.context ?? activeContext(),
      }),
    );
  }

  /**
   * Counts messages a pull (`receive`, e.g. AMQP `get`) delivered to the application in
   * `messaging.client.consumed.messages`. Semconv counts each delivery once: at receive
   * when the receive is instrumented, else at process; so call this only for messages no
   * process span will count.
   */
  recordConsumed(
    description: NamedOperation,
    count: number,
    context: Context = activeContext(),
  ): void {
    this.diagnostics.guard('consumed metrics', () =>
      this.runtime.count(
        'consumed',
        { description, operationName: description.operationName, operationType: 'receive' },
        count,
        context,
      ),
    );
  }

  /** See {@link createContext}. */
  createContext(description: MessageDescription, parent: Context = activeContext()): Context {
    return createContext(this.runtime, description, parent);
  }

  /**
   * The context a message was created in: its producer's span, baggage and correlation id
   * (in `'link'` mode incoming baggage is dropped). For code with its own consume loop.
   */
  messageContext(description: MessageDescription, base: Context = activeContext()): Context {
    return safeCreationContext(this.runtime, description, base);
  }

  /**
   * How to call a client method another instrumentation may wrap (see
   * {@link BatonOptions.coexistence}): `undefined` when `method` carries no shimmer-style
   * wrapper, else the `coexistence` option. Checked on every call: an instrumentation can
   * be enabled or disabled after the client exists. The first wrapper found is reported
   * once through `diag.info`.
   */
  coexistenceOf(method: unknown): Coexistence | undefined {
    if (!isShimmed(method)) return undefined;
    const mode = this.options.coexistence;
    if (this.coexistenceNoted) return mode;
    this.coexistenceNoted = true;
    this.diagnostics.infoOnce(
      'coexistence',
      `a client method is wrapped by another instrumentation (e.g. OpenTelemetry's contrib instrumentation of this client); ${
        mode === 'baton'
          ? "Baton records its spans and that instrumentation records none for Baton's calls (coexistence: 'baton')"
          : "that instrumentation records its spans and Baton adds the correlation id, time in queue and lag (coexistence: 'contrib')"
      }`,
    );
    return mode;
  }

  /** `error.type` of a thrown value, as this adapter reports it. */
  errorType(error: unknown): string {
    return this.runtime.errorType(error);
  }

  /**
   * Reports an error Baton saw but must not throw to the user's `onError`, isolated; with
   * no `onError`, one `diag` warning per kind (`info.operation`).
   */
  reportError(error: unknown, info: ErrorInfo): void {
    const onError = this.options.onError;
    if (onError === undefined) {
      this.diagnostics.reportOnce(
        `error:${info.operation}`,
        `${info.operation} failed (pass onError to see every such error; this one is reported once)`,
        error,
      );
      return;
    }
    try {
      onError(error, info);
    } catch (listenerError) {
      this.diagnostics.warnOnce('onError', listenerError);
    }
  }
}

export type { BatchScope } from './batch.js';
export type { InjectHeaders, SendCallback } from './publish.js';
