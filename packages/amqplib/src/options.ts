import type { Diagnostics } from '@baton/core';
import { DEFAULT_PUBLISH_TIME_HEADER } from './message.js';
import type { AckMode, AmqplibOptions, FailureMode } from './types.js';

/** The defaults of the options the amqplib entry points add to `BatonOptions`. */
export const DEFAULT_AMQPLIB_OPTIONS = Object.freeze({
  ackMode: 'manual' as AckMode,
  failureMode: 'requeue' as FailureMode,
  maxDeliveries: 5,
  publishTimeHeader: DEFAULT_PUBLISH_TIME_HEADER as string | false,
});

export interface ResolvedAmqplibOptions {
  ackMode: AckMode;
  failureMode: FailureMode;
  maxDeliveries: number;
  /** The publish-time header a consumer reads. */
  publishTimeHeader: string | false;
  /** The publish-time header a producer stamps: none unless asked (the 64-byte cliff). */
  stampTimeHeader: string | false;
}

/**
 * Merges the amqplib options over {@link DEFAULT_AMQPLIB_OPTIONS} once. A bad value falls
 * back to its default with one warning per option (core checks the `BatonOptions`).
 */
export function resolveAmqplibOptions(
  options: AmqplibOptions | undefined,
  diagnostics: Diagnostics,
): ResolvedAmqplibOptions {
  const resolved: ResolvedAmqplibOptions = { ...DEFAULT_AMQPLIB_OPTIONS, stampTimeHeader: false };
  if (!options || typeof options !== 'object') return resolved;
  const invalid = (name: string, value: unknown) =>
    diagnostics.reportOnce(
      `option ${name}`,
      `ignoring invalid option ${name}=${String(value)}; using the default`,
      undefined,
    );
  const { ackMode, failureMode, maxDeliveries: max, publishTimeHeader: header } = options;
  if (ackMode !== undefined) {
    if (ackMode === 'manual' || ackMode === 'auto') resolved.ackMode = ackMode;
    else invalid('ackMode', ackMode);
  }
  if (failureMode !== undefined) {
    if (failureMode === 'requeue' || failureMode === 'dead-letter') {
      resolved.failureMode = failureMode;
    } else invalid('failureMode', failureMode);
  }
  if (max !== undefined) {
    if (max === Infinity || (typeof max === 'number' && Number.isInteger(max) && max > 0)) {
      resolved.maxDeliveries = max;
    } else invalid('maxDeliveries', max);
  }
  if (header !== undefined) {
    if (header === true) {
      resolved.publishTimeHeader = DEFAULT_PUBLISH_TIME_HEADER;
      resolved.stampTimeHeader = DEFAULT_PUBLISH_TIME_HEADER;
    } else if (header === false || (typeof header === 'string' && header !== '')) {
      resolved.publishTimeHeader = header;
      resolved.stampTimeHeader = header;
    } else invalid('publishTimeHeader', header);
  }
  return resolved;
}
