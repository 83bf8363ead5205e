import dns from 'node:dns';
import net from 'node:net';
import { AppError } from '../shared/errors/app-error';

/**
 * SSRF guard for webhook targets. A URL must be http(s), without credentials, and every address its
 * host resolves to must be public. Checked at registration (a clear 400) and again at every delivery,
 * where `guardedLookup` is also the socket's DNS lookup — the connection goes to the very address that
 * was checked, so a hostname re-pointed at 127.0.0.1 after registration (DNS rebinding) is refused.
 * `allowPrivate` (ALLOW_PRIVATE_WEBHOOK_TARGETS) switches the address check off, for local receivers.
 */
export class WebhookTargetError extends AppError {
  constructor(message: string) {
    super('WEBHOOK_TARGET_REFUSED', message, { retriable: false });
  }
}

const blocked = new net.BlockList();
for (const [net4, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net4, bits, 'ipv4');
for (const [net6, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) blocked.addSubnet(net6, bits, 'ipv6');

/** True for loopback, private (RFC 1918, fc00::/7), link-local (incl. 169.254.169.254), CGNAT, multicast, unspecified. */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    // IPv4-mapped (::ffff:127.0.0.1) is the IPv4 address in disguise.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1]!, 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true; // not an address at all: refuse rather than guess
}

/** Syntax checks only (no DNS): the parsed URL or a typed error saying what is wrong. */
export function parseWebhookUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new WebhookTargetError('is not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new WebhookTargetError('must be http or https');
  if (u.username || u.password) throw new WebhookTargetError('must not carry credentials');
  if (!u.hostname) throw new WebhookTargetError('has no host');
  return u;
}

const hostOf = (u: URL) => u.hostname.replace(/^\[(.*)\]$/, '$1');

/** Resolves a host and refuses it when any of its addresses is private (unless allowed). */
export async function resolveAllowed(host: string, allowPrivate: boolean): Promise<dns.LookupAddress[]> {
  let addrs: dns.LookupAddress[];
  if (net.isIP(host)) addrs = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addrs = await dns.promises.lookup(host, { all: true, verbatim: true });
    } catch {
      throw new WebhookTargetError(`host ${host} does not resolve`);
    }
  }
  if (addrs.length === 0) throw new WebhookTargetError(`host ${host} does not resolve`);
  if (!allowPrivate) {
    const bad = addrs.find((a) => isPrivateAddress(a.address));
    if (bad) throw new WebhookTargetError(`points at a private, loopback or link-local address (${bad.address})`);
  }
  return addrs;
}

export async function assertWebhookUrl(raw: string, allowPrivate: boolean): Promise<URL> {
  const u = parseWebhookUrl(raw);
  await resolveAllowed(hostOf(u), allowPrivate);
  return u;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** A `lookup` for http(s) agents: the same check, applied to the address the socket will connect to. */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions | number | LookupCallback, cb?: LookupCallback): void => {
    const callback = (typeof options === 'function' ? options : cb)!;
    const all = typeof options === 'object' && options !== null && options.all === true;
    resolveAllowed(hostname, allowPrivate).then(
      (addrs) => (all ? callback(null, addrs) : callback(null, addrs[0]!.address, addrs[0]!.family)),
      (err: Error) => callback(Object.assign(err, { code: 'WEBHOOK_TARGET_REFUSED' }) as NodeJS.ErrnoException, ''),
    );
  };
}
