/** pino's mixin signature (kept structural so any pino >= 8 fits). */
export type PinoMixin = (mergeObject: object, level: number, logger?: unknown) => object;

/** Options for {@link batonMixin}. */
export interface BatonMixinOptions {
  /**
   * Baggage entries copied onto every line, e.g. `['tenant_id', 'user_id']`. Only these
   * keys are logged: baggage comes from other services and may be untrusted. A key that
   * names a field the logger writes itself (`level`, `time`, `msg`, `err`, `pid`,
   * `hostname`, `name`, Baton's own fields, the logger's message/error keys and its
   * bindings) is never written from baggage.
   * @defaultValue []
   */
  baggageKeys?: readonly string[];
  /** A mixin you already have; its fields are merged over Baton's. */
  mixin?: PinoMixin;
  /** Longest baggage value logged; longer ones are cut. @defaultValue 256 */
  maxBaggageValueLength?: number;
}

/** The fields Baton adds to a log line (absent when unknown). */
export interface CorrelationFields {
  trace_id?: string;
  span_id?: string;
  trace_flags?: string;
  correlation_id?: string;
  [baggageKey: string]: string | undefined;
}
