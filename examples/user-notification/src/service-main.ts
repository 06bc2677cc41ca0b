// One demo service as its own process: `node dist/service-main.js <service> <bus>`.
// Set up the way a user's service would be: an SDK exporting OTLP, a pino logger with
// Baton's mixin on stdout, a bus client wrapped by its Baton adapter, and the endpoints a
// platform asks of a service: /metrics for Prometheus, /health and /health/ready.

import { createLogger } from '@baton/pino';
import { createPrometheusMetrics } from '@baton/prometheus';
import { metrics, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type BrokerBusKind, createBus } from './buses/index.js';
import { startOpsServer } from './ops-server.js';
import { serviceReadiness } from './readiness.js';
import { startAuditService } from './services/audit-service.js';
import { startNotificationService } from './services/notification-service.js';
import { startUserService } from './services/user-service.js';
import { SmtpSpike } from './spike.js';
import { createServiceTelemetry, registerContextManager } from './telemetry.js';

const [service = '', kind = 'redis'] = process.argv.slice(2);
const logger = createLogger({
  name: service,
  base: undefined,
  baton: { baggageKeys: ['tenant_id'] },
});

registerContextManager();
const telemetry = createServiceTelemetry(service, {
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 100 })],
  metricReaders: [
    new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter(),
      exportIntervalMillis: 1000,
    }),
  ],
});
trace.setGlobalTracerProvider(telemetry.tracerProvider);
metrics.setGlobalMeterProvider(telemetry.meterProvider);
// Baton's metrics for Prometheus, with trace-id exemplars: every adapter in this process.
const prometheus = createPrometheusMetrics();
// BATON_DEMO_SPIKE=1: notification_service's SMTP relay can be slowed (POST /spike).
const spike =
  service === 'notification_service' && process.env.BATON_DEMO_SPIKE === '1'
    ? new SmtpSpike()
    : undefined;
const bounds = {
  maxLag: Number(process.env.BATON_DEMO_MAX_LAG) || 1000,
  // Redis consumers read at least every blockMs (1 s), Kafka consumers fetch at least
  // every maxWaitTimeInMs (100 ms here); AMQP pushes, so an idle queue says nothing.
  ...((kind === 'redis' || kind === 'kafka') && { maxPollAgeMs: 10_000 }),
};

try {
  const bus = await createBus(kind as BrokerBusKind, {
    namespace: process.env.BATON_DEMO_NAMESPACE ?? 'baton-demo',
    service,
  });
  const { tracer } = telemetry;
  if (service === 'user_service') await startUserService({ bus, logger, tracer });
  else if (service === 'notification_service')
    await startNotificationService({ bus, logger, tracer, ...(spike && { spike }) });
  else if (service === 'audit_service') await startAuditService({ bus, logger });
  else throw new Error(`unknown service "${service}"`);
  // BATON_DEMO_OPS_PORT: a fixed port (--keep-running --metrics-port); else a free one.
  // BATON_DEMO_OPS_HOST: the address to listen on (--metrics-host); else loopback.
  const opsPort = Number(process.env.BATON_DEMO_OPS_PORT);
  const opsHost = process.env.BATON_DEMO_OPS_HOST;
  const ops = await startOpsServer({
    ...(Number.isInteger(opsPort) && opsPort > 0 && { port: opsPort }),
    ...(opsHost && { host: opsHost }),
    metrics: prometheus,
    readiness: () => serviceReadiness(kind, bus.health(), bounds),
    ...(spike && { spike }),
  });
  logger.info({ bus: kind, ops_port: ops.port }, 'ready');

  // Once: Ctrl-C in a terminal sends SIGINT to the runner and its services alike, and the
  // runner then sends SIGTERM to those still up.
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await ops.close();
      await bus.close();
      await telemetry.shutdown(); // flushes spans and metrics to the runner
      process.exit(0);
    })());
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
} catch (error) {
  logger.fatal(
    { err: error },
    `cannot start: ${error instanceof Error ? error.message : String(error)}`,
  );
  await telemetry.shutdown();
  process.exit(1);
}
