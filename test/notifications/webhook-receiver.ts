import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deleteRedisKeys } from '../support/stack';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
  at: number;
}

/**
 * A local webhook receiver on 127.0.0.1 for tests. Each path answers from a script of statuses (the last
 * one repeats), e.g. [500, 500, 200]; every request is recorded with the status it got.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, Array<{ status: number; headers?: Record<string, string> }>>();
  private server!: http.Server;
  url = '';

  script(path: string, answers: Array<number | { status: number; headers?: Record<string, string> }>): string {
    this.scripts.set(path, answers.map((a) => (typeof a === 'number' ? { status: a } : a)));
    return `${this.url}${path}`;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const script = this.scripts.get(path) ?? [{ status: 404 }];
        const n = this.on(path).length;
        const answer = script[Math.min(n, script.length - 1)]!;
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: answer.status, at: Date.now() });
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end('ok');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

/** Removes what a notifications test leaves outside testStack's cleanup (the notify consumer group), and its Redis keys at once. */
export async function cleanupNotify(rt: import('../../shared/runtime').Runtime, redis: import('ioredis').Redis): Promise<void> {
  await deleteRedisKeys(redis, rt.config.REDIS_KEY_PREFIX);
  const admin = rt.kafka.admin();
  await admin.connect();
  await admin.deleteGroups([rt.config.NOTIFY_GROUP_ID ?? `${rt.config.KAFKA_TOPIC_PREFIX}.notify`]).catch(() => undefined);
  await admin.disconnect();
}
