import { Queue } from 'bullmq';
import type { CommandModule } from '../shared/lifecycle/process.contract';
import { loadConfig } from '../shared/config/config';
import { createRedis } from '../shared/redis/redis';
import { DLQ_NAME } from './jobs/ingest-job';
import { bullPrefix } from '../shared/redis/redis';
import type { DeadLetter } from './jobs/dead-letter';

/** The newest dead letters first (what an operator looks at after an alert on dead_lettered). */
export async function listDeadLetters(dlq: Queue<DeadLetter>, limit = 50): Promise<DeadLetter[]> {
  const jobs = await dlq.getJobs(['waiting', 'delayed', 'paused', 'completed', 'failed'], 0, Math.max(0, limit - 1), false);
  return jobs.map((j) => j.data).sort((a, b) => b.failedAt - a.failedAt);
}

/**
 * `spacehub dlq list [--limit N]` prints dead-lettered polls as JSON lines (job, payload, reason);
 * `spacehub dlq clear` empties the queue. A poll is not re-driven: its slot has passed, and the
 * scheduler polls the channel again at its next interval anyway.
 */
export const dlqCommand: CommandModule = {
  name: 'dlq',
  describe: 'ingest dead-letter queue: list entries with their reasons, or clear it',
  subcommands: [
    { name: 'list', describe: 'dead-lettered polls, newest first, as JSON lines', options: [{ flags: '--limit <n>', describe: 'how many', default: '50' }] },
    { name: 'clear', describe: 'empty the queue' },
  ],
  async run(args) {
    const c = loadConfig();
    const connection = createRedis(c.REDIS_URL, { forBullMQ: true });
    const dlq = new Queue<DeadLetter>(DLQ_NAME, { connection, prefix: bullPrefix(c.REDIS_KEY_PREFIX) });
    try {
      const [sub] = args.positional;
      if (sub === 'list') {
        for (const e of await listDeadLetters(dlq, Number(args.flags.limit ?? 50))) console.log(JSON.stringify(e));
        return 0;
      }
      if (sub === 'clear') {
        await dlq.obliterate({ force: true });
        console.log('dead-letter queue cleared');
        return 0;
      }
      console.error('usage: spacehub dlq list [--limit N] | dlq clear');
      return 2;
    } finally {
      await dlq.close();
      connection.disconnect();
    }
  },
};
