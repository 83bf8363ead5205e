import { loadConfig } from '../shared/config/config';
import { ApiTokenStore } from '../shared/auth/api-tokens';
import { createRedis } from '../shared/redis/redis';
import type { CommandModule } from './service';

async function withStore<T>(fn: (s: ApiTokenStore) => Promise<T>): Promise<T> {
  const c = loadConfig();
  const redis = createRedis(c.REDIS_URL);
  try {
    return await fn(new ApiTokenStore(redis, c.REDIS_KEY_PREFIX));
  } finally {
    redis.disconnect();
  }
}

export const usersCommand: CommandModule = {
  name: 'users',
  describe: 'create a user (prints its id) or list users',
  subcommands: [
    {
      name: 'create',
      describe: 'create a user',
      options: [
        { flags: '--name <name>', describe: 'display name (required)' },
        { flags: '--id <id>', describe: 'user id (default: generated)' },
      ],
    },
    { name: 'list', describe: 'every user' },
  ],
  async run(args) {
    const [sub] = args.positional;
    if (sub === 'create') {
      const name = String(args.flags.name ?? '');
      const id = typeof args.flags.id === 'string' ? args.flags.id : undefined;
      const user = await withStore((s) => s.createUser(name, id));
      console.log(JSON.stringify(user));
      return 0;
    }
    if (sub === 'list') {
      console.log(JSON.stringify(await withStore((s) => s.listUsers()), null, 2));
      return 0;
    }
    console.error('usage: spacehub users create --name NAME [--id ID] | users list');
    return 2;
  },
};

export const tokensCommand: CommandModule = {
  name: 'tokens',
  describe: 'issue an API token for a user; the token is printed once',
  subcommands: [
    {
      name: 'create',
      describe: 'issue a token (printed once, stored hashed)',
      options: [
        { flags: '--user <id>', describe: 'the user it acts for (required)' },
        { flags: '--label <label>', describe: 'what it is for', default: 'cli' },
      ],
    },
  ],
  async run(args) {
    const [sub] = args.positional;
    if (sub === 'create' && typeof args.flags.user === 'string') {
      const label = typeof args.flags.label === 'string' ? args.flags.label : 'cli';
      const t = await withStore((s) => s.createToken(String(args.flags.user), label));
      console.log(JSON.stringify(t));
      return 0;
    }
    console.error('usage: spacehub tokens create --user USER_ID [--label LABEL]');
    return 2;
  },
};
