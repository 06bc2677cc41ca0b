import { diag } from '@opentelemetry/api';

const warned = new Set<string>();

/**
 * Reports a telemetry failure through OpenTelemetry's `diag` once per kind, so a broken
 * exporter or hook cannot flood the logs. `kind` is a short fixed string chosen by Baton,
 * never message data, so this set stays bounded.
 */
export function warnOnce(kind: string, error: unknown): void {
  if (warned.has(kind)) return;
  warned.add(kind);
  diag.warn(`@baton/core: ${kind} failed; continuing without that telemetry`, error);
}

/** Test helper: forget which warnings were already reported. */
export function resetWarnings(): void {
  warned.clear();
}

/** Runs a user hook or telemetry step; a throw becomes one `diag` warning, never an error. */
export function guard(kind: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    warnOnce(kind, error);
  }
}
