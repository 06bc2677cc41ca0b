import type { Attributes } from '@opentelemetry/api';
import { LABEL_NAMES, LABEL_OF_ATTRIBUTE, OVERFLOW_LABEL } from './names.js';

/** Prometheus labels of one series. */
export type Labels = Readonly<Record<string, string>>;

interface Entry {
  readonly labels: Labels;
  /** The label set as one string, to count distinct series. */
  readonly key: string;
  /** One bit per family this label set was admitted to. */
  admitted: number;
}

/** What {@link SeriesLimiter} reports, each once per family or attribute. */
export interface LimiterEvents {
  overflow(family: string): void;
  unknownAttribute(attribute: string): void;
}

const OVERFLOW: Labels = Object.freeze({ [OVERFLOW_LABEL]: 'true' });

/**
 * Turns metric attributes into Prometheus labels and keeps each family under a number of
 * series. Core shares one frozen attribute object per combination, so the labels are
 * built once per object (a WeakMap: objects Baton drops are collected) and the common
 * path is one lookup and one bit test. Past `maxSeries` distinct label sets in a family,
 * further ones go to the family's `otel_metric_overflow="true"` series, as the
 * OpenTelemetry SDK does past its cardinality limit.
 */
export class SeriesLimiter {
  private readonly entries = new WeakMap<Attributes, Entry>();
  private readonly series: Array<Set<string>> = [];

  constructor(
    private readonly maxSeries: number,
    private readonly families: readonly string[],
    private readonly events: LimiterEvents,
  ) {
    for (let i = 0; i < families.length; i++) this.series.push(new Set());
  }

  /** The labels to record `attributes` under in family number `family`. */
  labelsOf(family: number, attributes: Attributes): Labels {
    let entry = this.entries.get(attributes);
    if (entry === undefined) {
      entry = this.build(attributes);
      this.entries.set(attributes, entry);
    }
    const bit = 1 << family;
    if ((entry.admitted & bit) !== 0) return entry.labels;
    const seen = this.series[family] as Set<string>;
    if (!seen.has(entry.key)) {
      if (seen.size >= this.maxSeries) {
        this.events.overflow(this.families[family] as string);
        return OVERFLOW;
      }
      seen.add(entry.key);
    }
    entry.admitted |= bit;
    return entry.labels;
  }

  private build(attributes: Attributes): Entry {
    const labels: Record<string, string> = {};
    for (const [attribute, value] of Object.entries(attributes)) {
      if (value === undefined || value === null) continue;
      const label = LABEL_OF_ATTRIBUTE[attribute];
      if (label === undefined) {
        this.events.unknownAttribute(attribute);
        continue;
      }
      labels[label] = String(value);
    }
    let key = '';
    for (const name of LABEL_NAMES) {
      const value = labels[name];
      if (value !== undefined) key += `${name}\u0000${value}\u0000`;
    }
    return { labels: Object.freeze(labels), key, admitted: 0 };
  }
}
