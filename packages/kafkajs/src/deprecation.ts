import { diag } from '@opentelemetry/api';
import { PACKAGE_NAME } from './version.js';

// Fixed names chosen by this package, never message data: bounded.
const warned = new Set<string>();

/** One warning per process for each deprecated name still in use. */
export function warnDeprecated(name: string, instead: string): void {
  if (warned.has(name)) return;
  warned.add(name);
  diag.warn(
    `${PACKAGE_NAME}: ${name} is deprecated and goes away in the next release; use ${instead}`,
  );
}
