import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per process. Modules create their metrics on it through `metric()` helpers
 * (get-or-create, so a module imported twice never registers twice).
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'spacehub_process_' });

export function getOrCreate<T>(name: string, create: () => T): T {
  return (metricsRegistry.getSingleMetric(name) as T | undefined) ?? create();
}
