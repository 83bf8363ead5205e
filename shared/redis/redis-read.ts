import type { ChainableCommander, Redis } from 'ioredis';

/**
 * One owner's read of Redis as a value: the commands it queues and how it decodes their replies. The
 * module that owns a key layout (the token store, the rate limiter, the connection repository, the
 * data versions) defines each read once and runs it alone (runRead); a caller that needs several
 * owners' answers for one request — the API's request guard — queues them all on one pipeline
 * (readTogether): one round trip instead of one per owner, and still no key layout outside its owner.
 */
export interface RedisRead<T> {
  /** How many commands `queue` adds (its slice of the pipeline's replies). */
  readonly commands: number;
  queue(p: ChainableCommander): void;
  /** The replies of its own commands, in order; a command's error has been thrown already. */
  decode(replies: unknown[]): T;
}

type Results<R extends readonly RedisRead<unknown>[]> = { [K in keyof R]: R[K] extends RedisRead<infer T> ? T : never };

/** The reads in one pipeline (one round trip), each decoded from its own replies. */
export async function readTogether<R extends readonly RedisRead<unknown>[]>(redis: Redis, reads: R): Promise<Results<R>> {
  const p = redis.pipeline();
  for (const r of reads) r.queue(p);
  const replies = (await p.exec()) ?? [];
  let at = 0;
  return reads.map((r) => {
    const mine = replies.slice(at, (at += r.commands));
    const failed = mine.find(([err]) => err);
    if (failed) throw failed[0];
    return r.decode(mine.map(([, v]) => v));
  }) as Results<R>;
}

export async function runRead<T>(redis: Redis, read: RedisRead<T>): Promise<T> {
  const [value] = await readTogether(redis, [read] as const);
  return value;
}
