export { formatServiceMap } from './format-service-map.js';
export {
  createPrometheusMetrics,
  DEFAULT_PROMETHEUS_METRICS_OPTIONS,
} from './prometheus-metrics.js';
export { histogramQuantile } from './quantile.js';
export { serviceMap } from './service-map.js';
export type {
  MetricSample,
  MetricsRegistry,
  PrometheusMetrics,
  PrometheusMetricsOptions,
  ServiceMapEdge,
  ServiceMapHistogram,
  ServiceMapOptions,
  ServiceMapPoint,
  ServiceMetrics,
} from './types.js';
