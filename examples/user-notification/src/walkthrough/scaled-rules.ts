/** How much faster the walkthrough's copy of the rules runs: a day becomes 2 minutes. */
export const TIME_SCALE = 720;
/** Shortest range window of the copy: ten scrapes at the walkthrough's 1 s interval. */
export const MIN_RANGE_SECONDS = 10;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const DURATION = /(\d+)([smhd])/;

function scaled(duration: string, floorSeconds: number): string {
  const [, amount = '0', unit = 's'] = DURATION.exec(duration) ?? [];
  const seconds = (Number(amount) * (UNIT_SECONDS[unit] ?? 1)) / TIME_SCALE;
  return `${Math.max(floorSeconds, Math.ceil(seconds))}s`;
}

/**
 * The shipped rules with every duration divided by {@link TIME_SCALE} (rounded up to whole
 * seconds): range windows (`[5m]`, `[1d]`, at least {@link MIN_RANGE_SECONDS}), `offset`
 * and `for`. Same expressions, same thresholds; only the clock runs faster, so the
 * time-in-queue baseline (a day, become 2 minutes) can be built and broken in a minute.
 */
export function scaleRuleDurations(rules: string): string {
  return rules
    .replace(/\[(\d+[smhd])\]/g, (_, d: string) => `[${scaled(d, MIN_RANGE_SECONDS)}]`)
    .replace(/\boffset (\d+[smhd])\b/g, (_, d: string) => `offset ${scaled(d, 1)}`)
    .replace(
      /^(\s+for: )(\d+[smhd])\s*$/gm,
      (_, head: string, d: string) => `${head}${scaled(d, 1)}`,
    );
}
