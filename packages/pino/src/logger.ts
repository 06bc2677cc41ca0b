import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { batonMixin } from './mixin.js';
import type { BatonMixinOptions } from './types.js';

/** Options for {@link createLogger}: pino's own, plus Baton's under `baton`. */
export interface CreateLoggerOptions extends LoggerOptions {
  baton?: Omit<BatonMixinOptions, 'mixin'>;
}

/**
 * A pino logger whose every line carries the trace and correlation ids. Your own `mixin`
 * in `options` is kept and composed.
 *
 * @example
 * const logger = createLogger({ name: 'user_service', baton: { baggageKeys: ['tenant_id'] } });
 */
export function createLogger(
  options: CreateLoggerOptions = {},
  destination?: DestinationStream,
): Logger {
  const { baton, mixin, ...pinoOptions } = options;
  const composed = batonMixin({ ...baton, ...(mixin && { mixin: mixin as never }) });
  return destination === undefined
    ? pino({ ...pinoOptions, mixin: composed })
    : pino({ ...pinoOptions, mixin: composed }, destination);
}
