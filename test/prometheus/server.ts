import { findExecutable } from '@baton/example-user-notification/prometheus';
import { requiredBrokers } from '../brokers.js';

export {
  findExecutable,
  type PrometheusOptions,
  type RunningPrometheus,
  type ScrapeTarget,
  startPrometheus,
  targetsUp,
} from '@baton/example-user-notification/prometheus';

/**
 * The path of `prometheus` or `promtool`, or undefined after one loud line. Throws instead
 * when BATON_REQUIRE_BROKERS lists `prometheus` (CI installs Debian's package).
 */
export function prometheusToolOrSkip(tool: 'prometheus' | 'promtool'): string | undefined {
  const found = findExecutable(tool);
  if (found) return found;
  const message = `prometheus tests SKIPPED: no ${tool} on PATH`;
  if (requiredBrokers().has('prometheus')) {
    throw new Error(`${message}, but BATON_REQUIRE_BROKERS requires prometheus`);
  }
  console.warn(`\n*** ${message} (apt-get install prometheus to run them) ***\n`);
  return undefined;
}
