// A strict reader of OpenMetrics text, enough for Baton's exposition: it parses what the
// exporter wrote back into families and samples, and throws on anything OpenMetrics 1.0
// does not allow there (a sample outside its family, an exemplar on a gauge, no # EOF).

export interface Exemplar {
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: Exemplar;
}

export interface Family {
  name: string;
  type: string;
  help?: string;
  samples: Sample[];
}

const SUFFIXES: Record<string, string[]> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gauge: [''],
};

function parseLabels(text: string, at: { i: number }): Record<string, string> {
  const labels: Record<string, string> = {};
  if (text[at.i] !== '{') return labels;
  at.i++;
  while (text[at.i] !== '}') {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(at.i))?.[0];
    if (!name || text[at.i + name.length] !== '=' || text[at.i + name.length + 1] !== '"') {
      throw new Error(`bad label at ${at.i} in: ${text}`);
    }
    at.i += name.length + 2;
    let value = '';
    while (text[at.i] !== '"') {
      const char = text[at.i];
      if (char === undefined) throw new Error(`unterminated label value in: ${text}`);
      if (char === '\\') {
        const next = text[at.i + 1];
        value += next === 'n' ? '\n' : next === '"' ? '"' : next === '\\' ? '\\' : '';
        if (next !== 'n' && next !== '"' && next !== '\\') throw new Error(`bad escape: ${text}`);
        at.i += 2;
      } else {
        value += char;
        at.i++;
      }
    }
    if (name in labels) throw new Error(`label ${name} twice in: ${text}`);
    labels[name] = value;
    at.i++;
    if (text[at.i] === ',') at.i++;
  }
  at.i++;
  return labels;
}

function parseNumber(text: string | undefined, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (text === undefined || text === '' || Number.isNaN(value)) {
    throw new Error(`bad number "${text}" in: ${line}`);
  }
  return value;
}

function parseSample(line: string): Sample {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
  if (!name) throw new Error(`bad sample: ${line}`);
  const at = { i: name.length };
  const labels = parseLabels(line, at);
  const [main = '', exemplarText] = line.slice(at.i).split(' # ');
  const [value, timestamp, ...rest] = main.trim().split(' ');
  if (rest.length > 0 || timestamp !== undefined) throw new Error(`unexpected fields: ${line}`);
  const sample: Sample = { name, labels, value: parseNumber(value, line) };
  if (exemplarText !== undefined) {
    const where = { i: 0 };
    const exemplarLabels = parseLabels(exemplarText, where);
    const [exemplarValue, exemplarTimestamp] = exemplarText.slice(where.i).trim().split(' ');
    const size = Object.entries(exemplarLabels).reduce((n, [k, v]) => n + [...k, ...v].length, 0);
    if (size > 128) throw new Error(`exemplar labels longer than 128 characters: ${line}`);
    sample.exemplar = {
      labels: exemplarLabels,
      value: parseNumber(exemplarValue, line),
      ...(exemplarTimestamp !== undefined && {
        timestamp: parseNumber(exemplarTimestamp, line),
      }),
    };
  }
  return sample;
}

/** Parses an OpenMetrics exposition; throws where it breaks the format. */
export function parseOpenMetrics(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '' || lines.at(-2) !== '# EOF') throw new Error('no # EOF at the end');
  let current: Family | undefined;
  for (const line of lines.slice(0, -2)) {
    const meta = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (current?.name !== name) {
        if (families.has(name)) throw new Error(`family ${name} twice`);
        current = { name, type: 'unknown', samples: [] };
        families.set(name, current);
      }
      if (kind === 'TYPE') current.type = rest;
      if (kind === 'HELP') current.help = rest;
      continue;
    }
    if (line.startsWith('#')) throw new Error(`unexpected comment: ${line}`);
    const sample = parseSample(line);
    if (!current) throw new Error(`sample before any family: ${line}`);
    const suffix = sample.name.slice(current.name.length);
    if (!sample.name.startsWith(current.name) || !(SUFFIXES[current.type] ?? []).includes(suffix)) {
      throw new Error(`sample ${sample.name} outside its family ${current.name} (${current.type})`);
    }
    if (sample.exemplar && suffix !== '_total' && suffix !== '_bucket') {
      throw new Error(`exemplar on ${sample.name}`);
    }
    current.samples.push(sample);
  }
  return families;
}

/** The samples named `name` whose labels include `labels`. */
export function samplesOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return [...families.values()]
    .flatMap((family) => family.samples)
    .filter(
      (sample) =>
        sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v),
    );
}
