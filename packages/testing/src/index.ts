export { createLogSink, type LogLine, type LogSink } from './log-sink.js';
export {
  createTestTelemetry,
  ensureContextManager,
  type MetricPoint,
  sumMetric,
  type TestTelemetry,
  type TestTelemetryOptions,
} from './telemetry.js';
export {
  buildTraceTrees,
  expectTraceTree,
  type FormatOptions,
  formatTraceTree,
  type TraceNode,
  type TraceShape,
} from './trace-tree.js';
export { waitFor } from './wait-for.js';
