import {
  type Context,
  createNoopMeter,
  ProxyTracerProvider,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import {
  AttributeCache,
  type ErrorTypeOf,
  errorType,
  type OperationAttributes,
  type OperationType,
} from './attributes.js';
import { Diagnostics } from './diag.js';
import { type MetricRecord, metricListeners, type RecordedInstrument } from './metric-listeners.js';
import {
  type InstrumentSource,
  METRIC_CONSUMED_MESSAGES,
  METRIC_OPERATION_DURATION,
  METRIC_PROCESS_DURATION,
  METRIC_SENT_MESSAGES,
  METRIC_TIME_IN_QUEUE,
  withErrorType,
} from './metrics.js';
import type { ResolvedBatonOptions } from './options.js';
import type { MessageDescription } from './types.js';

// What the API hands out when no SDK is registered, to tell "nothing records" apart from
// an SDK that samples a span out (which still makes new span ids).
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOOP_HISTOGRAM = createNoopMeter().createHistogram('baton.noop').constructor;

const NAMES: Record<RecordedInstrument, string> = {
  sent: METRIC_SENT_MESSAGES,
  consumed: METRIC_CONSUMED_MESSAGES,
  operationDuration: METRIC_OPERATION_DURATION,
  processDuration: METRIC_PROCESS_DURATION,
  timeInQueue: METRIC_TIME_IN_QUEUE,
};

/** What one finished operation records. */
export interface FinishedOperation {
  description: MessageDescription;
  operationName: string;
  operationType: OperationType;
  /** `performance.now()` at the start. */
  startMs: number;
  /** The thrown value, when `failed`. */
  error: unknown;
  failed: boolean;
  /** The message counter to add to, if any, and by how much. */
  counter?: 'sent' | 'consumed';
  count?: number;
  /** The duration histogram. */
  histogram: 'operationDuration' | 'processDuration';
  /** The operation's context (its span), for metric listeners' exemplars. */
  context: Context;
}

/**
 * The state every operation of one adapter instance shares: resolved options, tracer,
 * instruments, the attribute cache and diagnostics. Internal to core.
 */
export class TelemetryRuntime {
  readonly attributes: AttributeCache;
  readonly diagnostics: Diagnostics;

  constructor(
    readonly options: ResolvedBatonOptions,
    readonly tracer: Tracer,
    readonly instruments: InstrumentSource,
    packageName: string,
    private readonly errorTypeOf: ErrorTypeOf | undefined,
  ) {
    this.attributes = new AttributeCache(options.semconvStability);
    this.diagnostics = new Diagnostics(packageName);
  }

  /**
   * Whether spans can record: false only when no SDK is registered (the API's no-op
   * tracer). Then a span would only carry its parent's context along, so Baton skips it
   * and carries the context itself. Checked per operation: an SDK registered later counts.
   */
  spansActive(): boolean {
    if (this.options.tracerProvider !== undefined) return true;
    const provider = trace.getTracerProvider();
    return (
      !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_TRACER_PROVIDER
    );
  }

  /** Whether a measurement would go anywhere: a real meter, or a metric listener. */
  metricsActive(): boolean {
    if (!this.options.metrics) return false;
    if (metricListeners.length > 0) return true;
    return !(this.instruments.get().operationDuration instanceof NOOP_HISTOGRAM);
  }

  attributesOf(
    description: MessageDescription,
    operationName: string,
    operationType: OperationType,
  ): OperationAttributes {
    return this.attributes.get(
      description,
      operationName,
      operationType,
      this.templateOf(description),
      description.publishedDestination === undefined
        ? undefined
        : this.publishedNameOf(description.publishedDestination),
    );
  }

  /**
   * `baton.destination.published_name`: the producer's name of the destination, with the
   * `destinationTemplate` option applied as the producer applies it to its own.
   */
  private publishedNameOf(published: string): string | undefined {
    if (typeof published !== 'string' || published === '') return undefined;
    const template = this.options.destinationTemplate;
    if (template === undefined) return published;
    try {
      const value = template(published);
      return typeof value === 'string' && value.length > 0 ? value : published;
    } catch (error) {
      this.diagnostics.warnOnce('destinationTemplate', error);
      return published;
    }
  }

  /**
   * The destination template of a message: the adapter's, else the user's
   * `destinationTemplate` option applied to the destination name.
   */
  templateOf(description: MessageDescription): string | undefined {
    if (description.destinationTemplate !== undefined) return description.destinationTemplate;
    const template = this.options.destinationTemplate;
    if (template === undefined) return undefined;
    try {
      const value = template(description.destination);
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    } catch (error) {
      this.diagnostics.warnOnce('destinationTemplate', error);
      return undefined;
    }
  }

  /** `error.type` of a thrown value: the adapter's mapping first, then the class name. */
  errorType(error: unknown): string {
    if (this.errorTypeOf !== undefined) {
      try {
        const mapped = this.errorTypeOf(error);
        if (mapped) return mapped;
      } catch (mappingError) {
        this.diagnostics.warnOnce('error.type mapping', mappingError);
      }
    }
    return errorType(error);
  }

  /** Records the metrics of a finished operation: count (if any), duration, error.type. */
  finish(operation: FinishedOperation): void {
    if (!this.metricsActive()) return;
    const instruments = this.instruments.get();
    const sets = this.attributesOf(
      operation.description,
      operation.operationName,
      operation.operationType,
    );
    const failure = operation.failed ? this.errorType(operation.error) : undefined;
    const seconds = (performance.now() - operation.startMs) / 1000;
    if (operation.counter !== undefined) {
      const attributes = withErrorType(sets.message, failure);
      const count = operation.count ?? 1;
      instruments[operation.counter].add(count, attributes);
      if (metricListeners.length > 0)
        this.notify(operation.counter, count, attributes, operation.context);
    }
    const histogramAttributes = withErrorType(
      operation.histogram === 'operationDuration' ? sets.operation : sets.message,
      failure,
    );
    // The context passed on spares the SDK a lookup of the active one per record.
    instruments[operation.histogram].record(seconds, histogramAttributes, operation.context);
    if (metricListeners.length > 0) {
      this.notify(operation.histogram, seconds, histogramAttributes, operation.context);
    }
  }

  /**
   * Adds `count` to a message counter without a duration (a pull that delivered messages
   * to the application: semconv counts a delivery once, at receive when it is instrumented).
   */
  count(
    counter: 'sent' | 'consumed',
    operation: Pick<FinishedOperation, 'description' | 'operationName' | 'operationType'>,
    count: number,
    context: Context,
  ): void {
    if (!this.options.metrics) return;
    const attributes = this.attributesOf(
      operation.description,
      operation.operationName,
      operation.operationType,
    ).message;
    this.instruments.get()[counter].add(count, attributes);
    if (metricListeners.length > 0) this.notify(counter, count, attributes, context);
  }

  /** Records `baton.consumer.time_in_queue` for a message whose processing starts now. */
  recordTimeInQueue(
    description: MessageDescription,
    operationName: string,
    context: Context,
  ): void {
    const created = description.timestampMs;
    if (created === undefined || !Number.isFinite(created)) return;
    // Clocks of producer and consumer hosts differ; a negative wait is recorded as 0.
    const seconds = Math.max(0, Date.now() - created) / 1000;
    const attributes = this.attributesOf(description, operationName, 'process').message;
    this.instruments.get().timeInQueue.record(seconds, attributes, context);
    if (metricListeners.length > 0) this.notify('timeInQueue', seconds, attributes, context);
  }

  private notify(
    instrument: RecordedInstrument,
    value: number,
    attributes: MetricRecord['attributes'],
    context: Context,
  ): void {
    const record: MetricRecord = {
      instrument,
      name: NAMES[instrument],
      value,
      attributes,
      context,
    };
    for (const listener of metricListeners) {
      try {
        listener(record);
      } catch (error) {
        this.diagnostics.warnOnce('metric listener', error);
      }
    }
  }
}
