export { errorType, type OperationType } from './attributes.js';
export {
  type HeaderCarrier,
  headerGetter,
  headerSetter,
  readFirstHeader,
  readFirstValidHeader,
  readHeader,
} from './carrier.js';
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
export { guard, resetWarnings, warnOnce } from './diag.js';
export {
  DEFAULT_LAG_INTERVAL_MS,
  type LagMonitor,
  type LagMonitorOptions,
  startLagMonitor,
} from './lag.js';
export {
  METRIC_CONSUMED_MESSAGES,
  METRIC_CONSUMER_LAG,
  METRIC_CONSUMER_PENDING,
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
  ATTR_BATON_DELIVERY_COUNT,
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
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
} from './telemetry.js';
export type {
  BatonOptions,
  ConsumeHook,
  ConsumeHookInfo,
  ConsumerSpanRelation,
  LagSample,
  MessageDescription,
  PublishDescription,
  PublishHook,
  PublishHookInfo,
} from './types.js';
export {
  MAX_BAGGAGE_LENGTH,
  MAX_BAGGAGE_MEMBER_LENGTH,
  MAX_BAGGAGE_MEMBERS,
  parseBaggage,
  serializeBaggage,
} from './w3c/baggage.js';
export { W3CPropagator } from './w3c/propagator.js';
export { formatTraceParent, KNOWN_TRACE_FLAGS, parseTraceParent } from './w3c/traceparent.js';
