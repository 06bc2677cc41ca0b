import { diag } from '@opentelemetry/api';

// Fixed names chosen by this package, never message data: bounded.
const warned = new Set<string>();

/** One warning per process for each deprecated name still in use. */
export function warnDeprecated(name: string, instead: string): void {
  if (warned.has(name)) return;
  warned.add(name);
  diag.warn(
    `@baton/event-emitter: ${name} is deprecated and goes away in the next release; use ${instead}`,
  );
}
