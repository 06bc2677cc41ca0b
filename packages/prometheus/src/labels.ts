import type { Attributes } from '@opentelemetry/api';
import { LABEL_NAMES, LABEL_OF_ATTRIBUTE, OVERFLOW_LABEL } from './names.js';

/** The labels of one attribute set, rendered once: `a="x",b="y"`, in {@link LABEL_NAMES} order. */
export interface LabelSet {
  readonly text: string;
  /** The series this label set records into, per family (filled on first use). */
  readonly series: unknown[];
}

/** The label text of a family's overflow series. */
export const OVERFLOW_TEXT = `${OVERFLOW_LABEL}="true"`;

/** A label value as the exposition formats escape it. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`));
}

/**
 * Label sets by attribute object. Core shares one frozen attribute object per combination,
 * so a record costs one WeakMap lookup once its combination was seen (objects Baton drops
 * are collected with their entry).
 */
export class LabelSets {
  private readonly cache = new WeakMap<Attributes, LabelSet>();

  constructor(private readonly unknownAttribute: (attribute: string) => void) {}

  of(attributes: Attributes): LabelSet {
    let set = this.cache.get(attributes);
    if (set === undefined) {
      set = { text: this.render(attributes), series: [] };
      this.cache.set(attributes, set);
    }
    return set;
  }

  private render(attributes: Attributes): string {
    const values: Record<string, string> = {};
    for (const [attribute, value] of Object.entries(attributes)) {
      if (value === undefined || value === null) continue;
      const label = LABEL_OF_ATTRIBUTE[attribute];
      if (label === undefined) this.unknownAttribute(attribute);
      else values[label] = String(value);
    }
    const parts: string[] = [];
    for (const name of LABEL_NAMES) {
      const value = values[name];
      if (value !== undefined) parts.push(`${name}="${escapeLabelValue(value)}"`);
    }
    return parts.join(',');
  }
}

/**
 * The series of one family, at most `max` of them: past it, new label sets go to the one
 * `otel_metric_overflow="true"` series, as the OpenTelemetry SDK does past its cardinality
 * limit. A label set remembers its series, so the record path skips the map after the
 * first record.
 */
export class SeriesStore<S> {
  private readonly byLabels = new Map<string, S>();
  private overflow: S | undefined;

  constructor(
    private readonly index: number,
    private readonly max: number,
    private readonly create: (labels: string) => S,
    private readonly overflowed: () => void,
  ) {}

  seriesOf(set: LabelSet): S {
    const cached = set.series[this.index] as S | undefined;
    if (cached !== undefined) return cached;
    let series = this.byLabels.get(set.text);
    if (series === undefined) {
      if (this.byLabels.size >= this.max) {
        this.overflowed();
        this.overflow ??= this.create(OVERFLOW_TEXT);
        series = this.overflow;
      } else {
        series = this.create(set.text);
        this.byLabels.set(set.text, series);
      }
    }
    set.series[this.index] = series;
    return series;
  }

  all(): S[] {
    const all = [...this.byLabels.values()];
    if (this.overflow !== undefined) all.push(this.overflow);
    return all;
  }
}
