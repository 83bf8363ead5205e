import { loadConfig } from '../shared/config/config';
import { ApiTokenStore } from '../shared/auth/api-tokens';
import { createRedis } from '../shared/redis/redis';
import type { CommandModule } from '../shared/lifecycle/process.contract';
import { table } from '../shared/lifecycle/command-output';

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
  describe: 'issue (printed once), list or revoke a user\'s API tokens',
  subcommands: [
    {
      name: 'create',
      describe: 'issue a token (printed once, stored hashed)',
      options: [
        { flags: '--user <id>', describe: 'the user it acts for (required)' },
        { flags: '--label <label>', describe: 'what it is for', default: 'cli' },
        { flags: '--expires-in-days <n>', describe: 'stop working after n days (default: never)' },
      ],
    },
    { name: 'list', describe: 'a user\'s tokens: ids, labels, expiry (never the tokens)', options: [{ flags: '--user <id>', describe: 'the user (required)' }] },
    {
      name: 'revoke',
      describe: 'revoke one of a user\'s tokens; its open WebSocket/Socket.IO connections close within GATEWAY_AUTH_RECHECK_MS',
      options: [{ flags: '--user <id>', describe: 'the user (required)' }],
      arguments: [{ name: 'tokenId', describe: 'the token id (t_…), from tokens list', required: true }],
    },
  ],
  async run(args, out) {
    const [sub, tokenId] = args.positional;
    const user = typeof args.flags.user === 'string' ? args.flags.user : undefined;
    if (sub === 'create' && user) {
      const label = typeof args.flags.label === 'string' ? args.flags.label : 'cli';
      const days = args.flags['expires-in-days'];
      if (days !== undefined && !/^[1-9]\d{0,3}$/.test(String(days))) {
        console.error('spacehub: --expires-in-days must be a whole number of days (1-9999)');
        return 2;
      }
      const expiresAt = days === undefined ? null : Date.now() + Number(days) * 86400_000;
      const t = await withStore((s) => s.createToken(user, label, { expiresAt }));
      console.log(JSON.stringify(t)); // one line, as before: scripts read it
      return 0;
    }
    if (sub === 'list' && user) {
      const list = await withStore((s) => s.listTokens(user));
      const iso = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());
      out.result(list, (rows) => table(rows, [['id', (r) => r.tokenId], ['label', (r) => r.label], ['created', (r) => iso(r.createdAt)], ['expires', (r) => iso(r.expiresAt)]]));
      return 0;
    }
    if (sub === 'revoke' && user && tokenId) {
      const revoked = await withStore((s) => s.revokeToken(user, tokenId));
      if (!revoked) {
        console.error(`spacehub: user ${user} has no token ${tokenId}`);
        return 1;
      }
      out.result({ revoked: tokenId }, () => `revoked ${tokenId}`);
      return 0;
    }
    console.error('usage: spacehub tokens create --user USER_ID [--label LABEL] [--expires-in-days N] | tokens list --user USER_ID | tokens revoke --user USER_ID TOKEN_ID');
    return 2;
  },
};
