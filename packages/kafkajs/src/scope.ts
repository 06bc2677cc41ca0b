import type { InstrumentationScope } from '@baton/core';
import { kafkaErrorType } from './error-type.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

/** The instrumentation scope of every telemetry instance of this package. */
export const SCOPE: InstrumentationScope = Object.freeze({
  name: PACKAGE_NAME,
  version: PACKAGE_VERSION,
  errorType: kafkaErrorType,
});
