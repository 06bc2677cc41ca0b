import type { ServiceMapEdge } from './types.js';

const ARROW = '─▶';

function seconds(value: number | undefined): string {
  if (value === undefined) return '—';
  return value < 1 ? `${(value * 1000).toFixed(1)} ms` : `${value.toFixed(2)} s`;
}

function consumerOf(edge: ServiceMapEdge): string {
  if (edge.consumer === undefined) return '(no consumer seen)';
  const group = edge.consumerGroup;
  return group === undefined || group === edge.consumer
    ? edge.consumer
    : `${edge.consumer} [${group}]`;
}

function consumedOf(edge: ServiceMapEdge): string {
  if (edge.consumer === undefined) return '—';
  const rate = edge.consumedPerSecond;
  return rate === undefined ? String(edge.consumed) : `${edge.consumed} (${rate.toFixed(1)}/s)`;
}

/**
 * The edges of {@link serviceMap} as a small terminal diagram, one line per edge, columns
 * aligned:
 *
 * ```
 * producer         destination               consumer               consumed  failed  process p95  in queue p95
 * user_service  ─▶ user.registered (redis) ─▶ notification_service         4   25.0%      46.2 ms        1.1 ms
 * ```
 */
export function formatServiceMap(edges: readonly ServiceMapEdge[]): string {
  if (edges.length === 0) return '(no messaging seen)\n';
  const rows = edges.map((edge) => [
    edge.producer ?? '(no producer seen)',
    `${edge.destination} (${edge.system})`,
    consumerOf(edge),
    consumedOf(edge),
    edge.errorRatio === undefined ? '—' : `${(edge.errorRatio * 100).toFixed(1)}%`,
    seconds(edge.processP95Seconds),
    seconds(edge.timeInQueueP95Seconds),
  ]);
  const header = [
    'producer',
    'destination',
    'consumer',
    'consumed',
    'failed',
    'process p95',
    'in queue p95',
  ];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[], arrows: boolean) =>
    cells
      .map((cell, i) => {
        const width = widths[i] as number;
        const padded = i < 3 ? cell.padEnd(width) : cell.padStart(width);
        const gap = i === 0 ? '' : i < 3 ? (arrows ? ` ${ARROW} ` : '    ') : '  ';
        return gap + padded;
      })
      .join('')
      .trimEnd();
  return `${[line(header, false), ...rows.map((row) => line(row, true))].join('\n')}\n`;
}
