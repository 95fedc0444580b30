import { Counter, Histogram, type Registry } from 'prom-client';

/** Request metrics beside the operator's, labelled by route template (bounded), method and status code. */
export class ApiMetrics {
  readonly requests: Counter<'route' | 'method' | 'code'>;
  readonly duration: Histogram<'route' | 'method' | 'code'>;

  constructor(registry: Registry) {
    const labelNames = ['route', 'method', 'code'] as const;
    this.requests = new Counter({
      name: 'ses_operator_api_requests_total',
      help: 'REST API requests by route template, method and HTTP status code',
      labelNames,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'ses_operator_api_request_duration_seconds',
      help: 'REST API request latency by route template, method and HTTP status code',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  }

  observe(route: string, method: string, code: number, seconds: number): void {
    const labels = { route, method, code: String(code) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }
}
