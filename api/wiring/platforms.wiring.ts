import type { Redis } from 'ioredis';
import type { Runtime } from '../../shared/runtime';
import { createPlatformServices } from '../../platforms/platform-services';
import type { ConnectionDirectory, StreamingPort } from '../ports';

export interface PlatformParts {
  connections: ConnectionDirectory;
  streaming: StreamingPort;
  close(): Promise<void>;
}

/**
 * The platforms part's ConnectionRepository and StreamingService for the API — the one seam where the
 * compiler checks that they fit api/ports.ts.
 */
export function platformParts(rt: Runtime, redis: Redis): PlatformParts {
  const services = createPlatformServices(rt.config, redis, rt.logger);
  return { connections: services.connections, streaming: services.streaming, close: () => services.close() };
}
