import type { ServiceModule } from '../shared/lifecycle/process.contract';
import { acquireMetricsServer, MetricsServerHandle } from '../shared/metrics/metrics.server';
import { createProcessor } from './processor.wiring';

/** `spacehub process`: event-time windows, sessions and alerts (scale out by running more of them). */
export const processService: ServiceModule = {
  name: 'process',
  describe: 'consume snapshots/followers/chat/lifecycle; write 1-minute windows, sessions, alerts to ClickHouse and Kafka',
  inAll: true,
  async start(rt) {
    const processor = createProcessor(rt);
    await processor.start();
    let metrics: MetricsServerHandle | undefined;
    try {
      metrics = await acquireMetricsServer(rt.config.METRICS_PORT);
    } catch (err) {
      // Metrics are not worth refusing to process for (a second processor on one host needs its own METRICS_PORT).
      rt.logger.warn({ module: 'processor', port: rt.config.METRICS_PORT, err }, 'metrics server not started');
    }
    return {
      urls: metrics ? { metrics: metrics.url } : undefined,
      async close() {
        await processor.close();
        await metrics?.close();
      },
    };
  },
};
