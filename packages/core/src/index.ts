export {
  type ErrorTypeOf,
  errorType,
  type OperationAttributes,
  type OperationType,
} from './attributes.js';
export {
  type HeaderCarrier,
  headerGetter,
  headerSetter,
  readFirstHeader,
  readFirstValidHeader,
  readHeader,
} from './carrier.js';
export type { NamedOperation } from './client-operation.js';
export {
  type Coexistence,
  isShimmed,
  isTracingSuppressed,
  type RecordedByContrib,
  SUPPRESS_TRACING_KEY,
  suppressTracing,
  unwrappedOriginal,
} from './coexistence.js';
export { activeContext, runWithContext } from './context-scope.js';
export {
  CORRELATION_HEADER,
  createCorrelationId,
  getCorrelationId,
  isValidCorrelationId,
  MAX_CORRELATION_ID_LENGTH,
  resolveCorrelationId,
  setCorrelationId,
  withCorrelationId,
} from './correlation.js';
export { Diagnostics, guard, resetWarnings, warnOnce } from './diag.js';
export {
  type ConsumerHealth,
  checkReadiness,
  HealthTracker,
  type Readiness,
  type ReadinessOptions,
  readHealth,
  registerHealth,
} from './health.js';
export {
  DEFAULT_LAG_INTERVAL_MS,
  type LagMonitor,
  type LagMonitorOptions,
  type LagReading,
  lagReadings,
  startLagMonitor,
} from './lag.js';
export {
  messageContextOf,
  runInMessageContext,
} from './message-context.js';
export {
  addMetricListener,
  type MetricListener,
  type MetricRecord,
  type RecordedInstrument,
} from './metric-listeners.js';
export {
  DURATION_BUCKETS_SECONDS,
  METRIC_CONSUMED_MESSAGES,
  METRIC_CONSUMER_LAG,
  METRIC_CONSUMER_PENDING,
  METRIC_DESCRIPTIONS,
  METRIC_OPERATION_DURATION,
  METRIC_PROCESS_DURATION,
  METRIC_SENT_MESSAGES,
  METRIC_TIME_IN_QUEUE,
} from './metrics.js';
export {
  DEFAULT_BATON_OPTIONS,
  type ResolvedBatonOptions,
  resolveBatonOptions,
} from './options.js';
export {
  BAGGAGE_HEADER,
  CONTEXT_HEADERS,
  type EdgeBaggageTrust,
  type EdgeOptions,
  type ExtractOptions,
  edgeContext,
  extractContext,
  type InjectOptions,
  injectContext,
  TRACE_PARENT_HEADER,
  TRACE_STATE_HEADER,
  w3cPropagator,
} from './propagation.js';
export {
  ATTR_BATON_CORRELATION_ID,
  ATTR_BATON_DELIVERY_COUNT,
  ATTR_BATON_DESTINATION_PUBLISHED_NAME,
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_DESTINATION_TEMPLATE,
  ATTR_MESSAGING_MESSAGE_CONVERSATION_ID,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_MESSAGING_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  applySemconvStability,
  type SemconvStability,
  semconvStabilityFromEnv,
} from './semconv.js';
export {
  type BatchScope,
  type InjectHeaders,
  type InstrumentationScope,
  MessagingTelemetry,
  type SendCallback,
} from './telemetry.js';
export type {
  BatonOptions,
  ConsumeHook,
  ConsumeHookInfo,
  ConsumerSpanRelation,
  ErrorInfo,
  LagSample,
  MessageDescription,
  OnError,
  PublishDescription,
  PublishHook,
  PublishHookInfo,
  SendRole,
} from './types.js';
export { type Method, methodOwner, type Override, targetOf, viewOf } from './view.js';
export {
  MAX_BAGGAGE_LENGTH,
  MAX_BAGGAGE_MEMBER_LENGTH,
  MAX_BAGGAGE_MEMBERS,
  parseBaggage,
  serializeBaggage,
} from './w3c/baggage.js';
export { W3CPropagator } from './w3c/propagator.js';
export { formatTraceParent, KNOWN_TRACE_FLAGS, parseTraceParent } from './w3c/traceparent.js';
