import type { CommandModule } from '../shared/lifecycle/process.contract';
import { loadConfig } from '../shared/config/config';
import { createRedis } from '../shared/redis/redis';
import { cipherFromConfig } from '../platforms/platform-services';
import { rotateStoredSecrets, type RotationReport } from './key-rotation';

/** `spacehub keys rotate`: re-encrypt every stored token, webhook secret and URL with the ring's first key. */
export const keysCommand: CommandModule = {
  name: 'keys',
  describe: 'token-encryption key ring: rotate re-encrypts every connection token and webhook secret/URL with the first key',
  subcommands: [{ name: 'rotate', describe: 'after putting a new key first in TOKEN_ENCRYPTION_KEYS; then the old key can be removed' }],
  async run(args, out) {
    if (args.positional[0] !== 'rotate') {
      console.error('usage: spacehub keys rotate');
      return 2;
    }
    const c = loadConfig();
    const redis = createRedis(c.REDIS_URL);
    try {
      const report = await rotateStoredSecrets({ redis, prefix: c.REDIS_KEY_PREFIX, cipher: cipherFromConfig(c) });
      out.result(report, (r) =>
        `active key ${r.activeKeyId}: ${r.connections.rewritten} connection token blobs, ${r.webhooks.rewritten} of ${r.webhooks.total} webhooks and ${r.websub.rewritten} of ${r.websub.total} WebSub secrets re-encrypted` +
        (failedOf(r) > 0 ? `; ${failedOf(r)} could not be decrypted with this ring (left as they are)` : ''));
      return failedOf(report) > 0 ? 1 : 0;
    } finally {
      redis.disconnect();
    }
  },
};

const failedOf = (r: RotationReport) => r.connections.failed + r.webhooks.failed + r.websub.failed;
