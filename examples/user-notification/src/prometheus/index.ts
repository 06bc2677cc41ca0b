export {
  type AlertState,
  type ExemplarSeries,
  type InstantSample,
  PrometheusApi,
  PrometheusApiError,
  type RangeSeries,
  type RuleState,
  type TargetState,
} from './api.js';
export {
  findExecutable,
  type PrometheusOptions,
  type RunningPrometheus,
  type ScrapeTarget,
  startPrometheus,
  targetsUp,
} from './server.js';
