export {
  assertContract,
  type ContractInput,
  type ContractViolation,
  checkContract,
} from './contract/check.js';
export * as contract from './contract/spec.js';
export { createLogSink, type LogLine, type LogSink } from './log-sink.js';
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
