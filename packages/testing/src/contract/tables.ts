import { type AttributeSpec, COMMON_SPAN_ATTRIBUTES, METRICS, SYSTEMS } from './spec.js';

// The README sections generated from the contract, between markers like
// `<!-- contract:metrics -->` and `<!-- /contract -->`, so the docs cannot drift from what
// the contract checker enforces.

const escapeCell = (text: string) => text.replaceAll('|', '\\|');

function attributeRows(specs: readonly AttributeSpec[]): string[] {
  return specs.map((spec) => {
    const names = spec.stableKey
      ? `\`${spec.key}\` (1.45: \`${spec.stableKey}\`)`
      : `\`${spec.key}\``;
    const on = spec.on.length === 5 ? 'all' : spec.on.join(', ');
    return `| ${names} | ${on} | ${spec.requirement} | ${escapeCell(spec.description)} |`;
  });
}

/** The span attribute table: the common attributes, plus a bus's own when `system` is given. */
export function attributesTable(system?: string): string {
  const own = system !== undefined ? (SYSTEMS[system]?.attributes ?? []) : [];
  return [
    '| attribute | on spans of | requirement | value |',
    '| --- | --- | --- | --- |',
    ...attributeRows(COMMON_SPAN_ATTRIBUTES),
    ...attributeRows(own),
  ].join('\n');
}

/** The metrics table. */
export function metricsTable(): string {
  return [
    '| metric | instrument | unit | attributes besides system and destination | what it measures |',
    '| --- | --- | --- | --- | --- |',
    ...METRICS.map((metric) => {
      const attributes = [...metric.required, ...metric.optional.map((key) => `${key}?`)]
        .map((key) => `\`${key}\``)
        .join(', ');
      return `| \`${metric.name}\` | ${metric.instrument} | \`${metric.unit}\` | ${attributes || '—'} | ${escapeCell(metric.description)} |`;
    }),
  ].join('\n');
}

const MARKER = /<!-- contract:([a-z]+)(?: system=([a-z_]+))? -->\n[\s\S]*?<!-- \/contract -->/g;

/** `readme` with every contract section regenerated. */
export function renderContractSections(readme: string): string {
  return readme.replace(MARKER, (_whole, kind: string, system: string | undefined) => {
    const table = kind === 'metrics' ? metricsTable() : attributesTable(system);
    const open = `<!-- contract:${kind}${system ? ` system=${system}` : ''} -->`;
    return `${open}\n${table}\n<!-- /contract -->`;
  });
}

/** The contract sections a README has, e.g. `['attributes system=kafka', 'metrics']`. */
export function contractSections(readme: string): string[] {
  return [...readme.matchAll(MARKER)].map(([, kind, system]) =>
    system ? `${kind} system=${system}` : `${kind}`,
  );
}
