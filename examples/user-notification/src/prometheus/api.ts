/** One series of an instant query: its labels and `[unix seconds, value]`. */
export interface InstantSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** One series of a range query. */
export interface RangeSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** The exemplars of one series, from `query_exemplars`. */
export interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

/** A rule as `/api/v1/rules` reports it. */
export interface RuleState {
  name: string;
  query: string;
  type: 'recording' | 'alerting';
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  lastEvaluation: string;
  state?: 'inactive' | 'pending' | 'firing';
}

/** An alert as `/api/v1/alerts` reports it. */
export interface AlertState {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

/** A scrape target as `/api/v1/targets` reports it. */
export interface TargetState {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

interface ApiResponse<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
}

/** Prometheus rejected a request (`status: error`): a parse error, an unknown function... */
export class PrometheusApiError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(`${errorType}: ${message}`);
  }
}

/** A small client of Prometheus's HTTP API (/api/v1). Times are unix seconds. */
export class PrometheusApi {
  constructor(readonly baseUrl: string) {}

  async query(expr: string, time?: number): Promise<InstantSample[]> {
    const data = await this.get<{ resultType: string; result: InstantSample[] }>('query', {
      query: expr,
      ...(time === undefined ? {} : { time: String(time) }),
    });
    return data.resultType === 'vector' ? data.result : [];
  }

  async queryRange(expr: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    const data = await this.get<{ result: RangeSeries[] }>('query_range', {
      query: expr,
      start: String(start),
      end: String(end),
      step: String(step),
    });
    return data.result;
  }

  queryExemplars(expr: string, start: number, end: number): Promise<ExemplarSeries[]> {
    return this.get('query_exemplars', { query: expr, start: String(start), end: String(end) });
  }

  async series(match: string): Promise<Array<Record<string, string>>> {
    return this.get('series', { 'match[]': match });
  }

  async rules(): Promise<Array<{ name: string; file: string; rules: RuleState[] }>> {
    const data = await this.get<{
      groups: Array<{ name: string; file: string; rules: RuleState[] }>;
    }>('rules', {});
    return data.groups;
  }

  async alerts(): Promise<AlertState[]> {
    const data = await this.get<{ alerts: AlertState[] }>('alerts', {});
    return data.alerts;
  }

  async targets(): Promise<TargetState[]> {
    const data = await this.get<{ activeTargets: TargetState[] }>('targets', { state: 'active' });
    return data.activeTargets;
  }

  private async get<T>(endpoint: string, params: Record<string, string>): Promise<T> {
    const url = `${this.baseUrl}/api/v1/${endpoint}?${new URLSearchParams(params)}`;
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as ApiResponse<T>;
    if (body.status !== 'success') {
      throw new PrometheusApiError(body.errorType ?? String(response.status), body.error ?? '');
    }
    return body.data;
  }
}
