export {
  assertContract,
  type ContractInput,
  type ContractViolation,
  checkContract,
} from './contract/check.js';
export * as contract from './contract/spec.js';
export { createLogSink, type LogLine, type LogSink } from './log-sink.js';
export {
  countMessageSpans,
  type FinishedSpanLike,
  type MessageSpanCount,
  type PublishedMessage,
  type SpanFacts,
  spanFacts,
} from './message-spans.js';
export { isReachable } from './reachable.js';
export {
  CollectingMetricReader,
  createTestTelemetry,
  ensureContextManager,
  type MetricPoint,
  metricPointsFrom,
  sumMetric,
  type TestTelemetry,
  type TestTelemetryOptions,
  withoutContextManager,
} from './telemetry.js';
export {
  buildTraceTrees,
  expectTraceTree,
  type FormatOptions,
  formatTraceTree,
  type SpanLike,
  type TraceNode,
  type TraceShape,
} from './trace-tree.js';
export { waitFor } from './wait-for.js';
