export { type CreateLoggerOptions, createLogger } from './logger.js';
export { batonMixin, correlationFields } from './mixin.js';
export type { BatonMixinOptions, CorrelationFields, PinoMixin } from './types.js';
