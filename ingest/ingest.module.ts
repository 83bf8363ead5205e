import type { ServiceModule } from '../shared/lifecycle/process.contract';
import { IngestService } from './ingest.service';
import { platformPorts } from './platform.ports';

/** `spacehub ingest`: the poll scheduler and workers (any number of processes may run it). */
export const ingestService: ServiceModule = {
  name: 'ingest',
  describe: 'poll connected channels (BullMQ job schedulers + workers) into Kafka; INGEST_CONCURRENCY jobs per platform',
  inAll: true,
  async start(rt) {
    const ports = platformPorts(rt.config, rt.logger.child({ module: 'platforms' }));
    const svc = await IngestService.start(rt, { ports });
    const urls: Record<string, string> = svc.metricsUrl ? { metrics: svc.metricsUrl } : {};
    return { urls, close: () => svc.close() };
  },
};
