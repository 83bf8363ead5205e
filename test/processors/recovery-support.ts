import net from 'node:net';
import type { Runtime } from '../../shared/runtime';
import { ClickHouseRepository, ClickHouseSettings } from '../../shared/clickhouse/clickhouse.repository';
import { eventually } from '../support/stack';
import { FixtureEvent, processorResults, secondDatabase, T0, waitComplete } from './processor-fixtures';
import { createProcessor } from '../../processors/processor.wiring';

export type Results = Awaited<ReturnType<typeof processorResults>>;

/** The uninterrupted run: a fresh group over the complete topics, into its own database. */
export async function referenceRun(rt: Runtime, expected: { windows: number; late: number; sessions: number }): Promise<Results> {
  const db = await secondDatabase(rt);
  const p = createProcessor(rt, { groupId: `${rt.kafkaSettings.topicPrefix}.reference`, clickhouse: db.settings });
  try {
    await p.start();
    await waitComplete(db.settings, expected);
    await p.flushNow();
    return await processorResults(db.settings);
  } finally {
    await p.close();
    await db.drop();
  }
}

/** Splits a generated stream at an event time: the first part is produced before, the rest after. */
export function splitAt(events: FixtureEvent[], minutes: number): [FixtureEvent[], FixtureEvent[]] {
  const cut = T0 + minutes * 60_000;
  const i = events.findIndex((e) => e.t >= cut);
  return [events.slice(0, i), events.slice(i)];
}

export async function windowCount(settings: ClickHouseSettings): Promise<number> {
  const repo = new ClickHouseRepository(settings);
  try {
    const [r] = await repo.query<{ n: number }>('window count', 'SELECT count() AS n FROM metrics_1m_latest');
    return r!.n;
  } finally {
    await repo.close();
  }
}

export async function waitForWindows(settings: ClickHouseSettings, atLeast: number): Promise<void> {
  await eventually(() => windowCount(settings), (n) => n >= atLeast, 60000, 200);
}

/**
 * A TCP proxy in front of ClickHouse that the test can take down (refuse new connections, cut open
 * ones) and bring back on the same port — an outage that disturbs nobody else's tests.
 */
export class PausableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<string> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  /** ClickHouse "goes away": new connections are refused, open ones are cut. */
  async pause(): Promise<void> {
    const closed = new Promise<void>((r) => this.server?.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  async resume(): Promise<void> {
    await this.start();
  }

  async close(): Promise<void> {
    await this.pause().catch(() => undefined);
  }
}
