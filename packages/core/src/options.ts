import { diag } from '@opentelemetry/api';
import type { Coexistence } from './coexistence.js';
import { semconvStabilityFromEnv } from './semconv.js';
import type { BatonOptions, ConsumerSpanRelation } from './types.js';

/** The defaults every adapter starts from. */
export const DEFAULT_BATON_OPTIONS = Object.freeze({
  consumerSpanRelation: 'parent' as ConsumerSpanRelation,
  metrics: true,
  coexistence: 'baton' as Coexistence,
});

export type ResolvedBatonOptions = BatonOptions &
  Required<
    Pick<BatonOptions, 'consumerSpanRelation' | 'metrics' | 'semconvStability' | 'coexistence'>
  >;

function isFunctionOrAbsent(value: unknown): boolean {
  return value === undefined || typeof value === 'function';
}

/**
 * Merges user options over the defaults once. A bad value falls back to its default with
 * one `diag.warn`; options never throw.
 */
export function resolveBatonOptions(
  options: BatonOptions | undefined,
  packageName: string,
): ResolvedBatonOptions {
  const given: BatonOptions = options && typeof options === 'object' ? options : {};
  const resolved: ResolvedBatonOptions = {
    ...DEFAULT_BATON_OPTIONS,
    semconvStability: semconvStabilityFromEnv(),
    ...given,
  };
  const warn = (name: string, value: unknown) =>
    diag.warn(
      `${packageName}: ignoring invalid option ${name}=${String(value)}; using the default`,
    );
  if (resolved.consumerSpanRelation !== 'parent' && resolved.consumerSpanRelation !== 'link') {
    warn('consumerSpanRelation', resolved.consumerSpanRelation);
    resolved.consumerSpanRelation = DEFAULT_BATON_OPTIONS.consumerSpanRelation;
  }
  if (resolved.coexistence !== 'baton' && resolved.coexistence !== 'contrib') {
    warn('coexistence', resolved.coexistence);
    resolved.coexistence = DEFAULT_BATON_OPTIONS.coexistence;
  }
  if (typeof resolved.metrics !== 'boolean') {
    warn('metrics', resolved.metrics);
    resolved.metrics = DEFAULT_BATON_OPTIONS.metrics;
  }
  if (!['old', 'stable', 'dup'].includes(resolved.semconvStability)) {
    warn('semconvStability', resolved.semconvStability);
    resolved.semconvStability = semconvStabilityFromEnv();
  }
  for (const hook of ['publishHook', 'consumeHook', 'onError', 'destinationTemplate'] as const) {
    if (!isFunctionOrAbsent(resolved[hook])) {
      warn(hook, resolved[hook]);
      delete resolved[hook];
    }
  }
  return resolved;
}
