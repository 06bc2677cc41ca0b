import { readFileSync } from 'node:fs';
import type { BatonOptions } from '@baton/core';
import { createEventBus } from '@baton/event-emitter';
import { createTestTelemetry, type TestTelemetry } from '@baton/testing';

/** observability/metrics.json: the names every route to Prometheus must produce. */
export interface Contract {
  labels: Record<string, string>;
  metrics: Array<{
    otel: string;
    type: 'counter' | 'histogram' | 'gauge';
    family: string;
    series: string[];
    requiredLabels: string[];
    optionalLabels: string[];
    exemplars: boolean;
    buckets?: number[];
  }>;
}

export const CONTRACT = JSON.parse(
  readFileSync(new URL('../../../observability/metrics.json', import.meta.url), 'utf8'),
) as Contract;

export type Events = { 'user.registered': { n: number } };

/** A payload whose handling fails, with this error class. */
export class SmtpError extends Error {
  override name = 'SmtpError';
}

/**
 * Sends `messages` events through @baton/event-emitter (a real adapter path: send spans,
 * process spans, counters, histograms), the handler failing on every `failEvery`th.
 */
export async function sendThroughBus(
  count: number,
  options: BatonOptions & { failEvery?: number; telemetry?: TestTelemetry } = {},
): Promise<TestTelemetry> {
  const { failEvery, telemetry = createTestTelemetry(), ...baton } = options;
  const bus = createEventBus<Events>({
    ...telemetry.providers,
    onError: () => {},
    ...baton,
  });
  bus.subscribe(
    'user.registered',
    ({ n }) => {
      if (failEvery !== undefined && n % failEvery === 0) throw new SmtpError('451');
    },
    { consumerGroup: 'notification_service' },
  );
  for (let n = 1; n <= count; n++) bus.publish('user.registered', { n });
  await bus.idle();
  return telemetry;
}
