/**
 * The `q` quantile of a histogram as Prometheus's `histogram_quantile` computes it, so the
 * map printed here and the recording rules agree: linear interpolation inside the bucket
 * the rank falls in, the first bucket starting at 0, and the highest finite boundary when
 * the rank falls in the +Inf bucket. `counts` are per bucket (not cumulative), one more
 * than `boundaries`, as OpenTelemetry histogram points have them. Undefined without
 * observations.
 */
export function histogramQuantile(
  q: number,
  boundaries: readonly number[],
  counts: readonly number[],
): number | undefined {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (!(total > 0) || boundaries.length === 0 || counts.length !== boundaries.length + 1) {
    return undefined;
  }
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < boundaries.length; i++) {
    const count = counts[i] as number;
    if (below + count >= rank && count > 0) {
      const upper = boundaries[i] as number;
      const lower = i === 0 ? Math.min(0, upper) : (boundaries[i - 1] as number);
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return boundaries[boundaries.length - 1];
}
