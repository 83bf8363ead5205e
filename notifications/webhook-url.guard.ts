import dns from 'node:dns';
import net from 'node:net';
import type { Config } from '../shared/config/config';
import { AppError } from '../shared/errors/app-error';

/**
 * SSRF guard for webhook targets. A URL must be http(s), without credentials, on an allowed port, and
 * every address its host resolves to must be global unicast. Checked at registration (a clear 400) and again at every delivery,
 * where `guardedLookup` is also the socket's DNS lookup — the connection goes to the very address that
 * was checked, so a hostname re-pointed at 127.0.0.1 after registration (DNS rebinding) is refused.
 * `allowPrivate` (ALLOW_PRIVATE_WEBHOOK_TARGETS) switches the address check off, for local receivers.
 * Ports are limited to WEBHOOK_ALLOWED_PORTS (80 and 443 by default), so a public host cannot be used to
 * reach its own SSH, Redis or admin ports.
 */
export class WebhookTargetError extends AppError {
  constructor(message: string) {
    super('WEBHOOK_TARGET_REFUSED', message, { retriable: false });
  }
}

/** What a webhook may point at: from ALLOW_PRIVATE_WEBHOOK_TARGETS and WEBHOOK_ALLOWED_PORTS. */
export interface WebhookTargetPolicy {
  /** Switches the address check off (local receivers, tests) — never in production. */
  allowPrivate: boolean;
  /** Ports a URL may name (the scheme's default counts as named); 'any' = no port check. */
  allowedPorts: ReadonlySet<number> | 'any';
}

export function webhookTargetPolicy(c: Pick<Config, 'ALLOW_PRIVATE_WEBHOOK_TARGETS' | 'WEBHOOK_ALLOWED_PORTS'>): WebhookTargetPolicy {
  const spec = c.WEBHOOK_ALLOWED_PORTS.trim();
  return {
    allowPrivate: c.ALLOW_PRIVATE_WEBHOOK_TARGETS,
    allowedPorts: spec === '*' ? 'any' : new Set(spec.split(',').map((p) => Number(p.trim()))),
  };
}

// IPv4: everything is global unicast except the IANA special-purpose blocks below.
const blockedV4 = new net.BlockList();
for (const [net4, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blockedV4.addSubnet(net4, bits, 'ipv4');

// IPv6: an allowlist. Only 2000::/3 is global unicast — which by itself excludes ::/96, ::ffff:0:0/96,
// ::ffff:0:0:0/96, 64:ff9b::/96, 64:ff9b:1::/48, 100::/64, fc00::/7, fe80::/10, fec0::/10 and ff00::/8 —
// minus the blocks inside it that tunnel to IPv4 or are not routed: 2001::/23 (IETF protocol
// assignments, incl. Teredo 2001::/32), 2001:db8::/32 and 3fff::/20 (documentation), 2002::/16 (6to4,
// which embeds any IPv4 address, 127.0.0.1 included).
const globalV6 = new net.BlockList();
globalV6.addSubnet('2000::', 3, 'ipv6');
const blockedV6 = new net.BlockList();
for (const [net6, bits] of [['2001::', 23], ['2001:db8::', 32], ['2002::', 16], ['3fff::', 20]] as const) blockedV6.addSubnet(net6, bits, 'ipv6');

/** True for anything that is not a global unicast address (loopback, private, link-local, NAT64, 6to4, mapped, documentation…). */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return blockedV4.check(address, 'ipv4');
  if (family === 6) return !globalV6.check(address, 'ipv6') || blockedV6.check(address, 'ipv6');
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

/** Resolves a host and refuses it when any of its addresses is not global unicast (unless allowed). */
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
    // The address is not named: it would tell whoever registers URLs what internal names resolve to.
    if (bad) throw new WebhookTargetError('points at a private, loopback, link-local or otherwise non-public address');
  }
  return addrs;
}

export async function assertWebhookUrl(raw: string, p: WebhookTargetPolicy): Promise<URL> {
  const u = parseWebhookUrl(raw);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  if (p.allowedPorts !== 'any' && !p.allowedPorts.has(port)) throw new WebhookTargetError(`port ${port} is not allowed (allowed: ${[...p.allowedPorts].join(', ')})`);
  await resolveAllowed(hostOf(u), p.allowPrivate);
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
