import { diag } from '@opentelemetry/api';

// Keys are `<package>\0<kind>`: short fixed strings chosen by Baton, never message data,
// so this set stays bounded. One package's warning never silences another's.
const warned = new Set<string>();

/**
 * Diagnostics of one package: warnings start with its name, and each kind of failure is
 * reported once per package, so a broken exporter or hook cannot flood the logs.
 */
export class Diagnostics {
  constructor(readonly packageName: string) {}

  /** Reports a telemetry failure once per kind: `<package>: <kind> failed; ...`. */
  warnOnce(kind: string, error: unknown): void {
    this.reportOnce(kind, `${kind} failed; continuing without that telemetry`, error);
  }

  /** Reports `message` (prefixed with the package name) once per `kind`. */
  reportOnce(kind: string, message: string, error?: unknown): void {
    const key = `${this.packageName}\0${kind}`;
    if (warned.has(key)) return;
    warned.add(key);
    if (error === undefined) diag.warn(`${this.packageName}: ${message}`);
    else diag.warn(`${this.packageName}: ${message}`, error);
  }

  /** Says `message` (prefixed with the package name) once per `kind`, at info level. */
  infoOnce(kind: string, message: string): void {
    const key = `${this.packageName}\0${kind}`;
    if (warned.has(key)) return;
    warned.add(key);
    diag.info(`${this.packageName}: ${message}`);
  }

  /** Warns once that `name` is deprecated and what to use instead. */
  deprecated(name: string, instead: string): void {
    this.reportOnce(
      `deprecated:${name}`,
      `${name} is deprecated and goes away in the next release; use ${instead}`,
    );
  }

  /** Runs a user hook or telemetry step; a throw becomes one warning, never an error. */
  guard(kind: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.warnOnce(kind, error);
    }
  }
}

const coreDiagnostics = new Diagnostics('@baton/core');

/** Reports a failure in `@baton/core` itself once per kind. Adapters use their own {@link Diagnostics}. */
export function warnOnce(kind: string, error: unknown): void {
  coreDiagnostics.warnOnce(kind, error);
}

/** Runs `fn`; a throw becomes one `@baton/core` warning. */
export function guard(kind: string, fn: () => void): void {
  coreDiagnostics.guard(kind, fn);
}

/** Test helper: forget which warnings were already reported, for every package. */
export function resetWarnings(): void {
  warned.clear();
}
