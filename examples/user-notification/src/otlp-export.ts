import { isReachable } from '@baton/testing';
import { ExportResultCode } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

// Exporting to OTEL_EXPORTER_OTLP_ENDPOINT is an extra of the demo: a collector that is not
// there (or fails) costs one warning on stderr, never the demo's own report. The OTLP
// exporter retries a refused connection for about 8 s before it gives up, so the demo asks
// first whether anything listens, and a wrapper absorbs failures that come later.

/** Returns a function that passes on its first message only. */
export function once(warn: (message: string) => void): (message: string) => void {
  let warned = false;
  return (message) => {
    if (warned) return;
    warned = true;
    warn(message);
  };
}

/** The one warning of a demo run whose traces cannot reach the collector. */
export const cannotExport = (endpoint: string, reason: string) =>
  `demo: cannot export traces to ${endpoint} (${reason}); the demo goes on without exporting them`;

/** Whether a collector listens at `endpoint`; when none does, `warn` says so. */
export async function collectorListens(
  endpoint: string,
  warn: (message: string) => void,
): Promise<boolean> {
  const defaultPort = endpoint.startsWith('https:') ? 443 : 80;
  if (await isReachable(endpoint, defaultPort, 2000)) return true;
  warn(cannotExport(endpoint, 'nothing accepts connections there'));
  return false;
}

/**
 * Wraps an exporter so that a failing collector never fails the demo: the first failed
 * export is reported through `warn`, and from then on spans are dropped instead of sent
 * (each send would wait through the exporter's retries again).
 */
export function dropOnFailure(
  exporter: SpanExporter,
  endpoint: string,
  warn: (message: string) => void,
): SpanExporter {
  let failed = false;
  return {
    export(spans, done) {
      if (failed) return done({ code: ExportResultCode.SUCCESS });
      exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          failed = true;
          warn(cannotExport(endpoint, result.error?.message ?? 'export failed'));
        }
        done({ code: ExportResultCode.SUCCESS });
      });
    },
    shutdown: () => exporter.shutdown().catch(() => {}),
    forceFlush: () => exporter.forceFlush?.().catch(() => {}) ?? Promise.resolve(),
  };
}
