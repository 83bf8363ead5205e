import { assertWebhookUrl, isPrivateAddress, webhookTargetPolicy } from './webhook-url.guard';

/**
 * Issue 17, "Webhook URL guard": only global unicast addresses, only ports 80 and 443 unless configured
 * otherwise, and a refusal never names the address a hostname resolved to (that would turn the guard
 * into an oracle for internal DNS).
 */
describe('webhook URL guard: global unicast only, ports 80/443, no address in refusals', () => {
  it.each([
    ['fec0::1', 'site-local (deprecated, fec0::/10)'],
    ['64:ff9b::7f00:1', 'NAT64 of 127.0.0.1 (64:ff9b::/96)'],
    ['64:ff9b:1::a00:1', 'local-use NAT64 (64:ff9b:1::/48)'],
    ['2002:7f00:1::1', '6to4 of 127.0.0.1 (2002::/16)'],
    ['::7f00:1', 'IPv4-compatible (::/96)'],
    ['::ffff:0:7f00:1', 'IPv4-translated (::ffff:0:0:0/96)'],
    ['::ffff:7f00:1', 'IPv4-mapped in hex'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'Teredo (2001::/32)'],
    ['100::1', 'discard-only (100::/64)'],
    ['fd00::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['192.0.2.1', 'TEST-NET-1'],
    ['198.51.100.7', 'TEST-NET-2'],
    ['203.0.113.9', 'TEST-NET-3'],
    ['192.88.99.1', '6to4 relay anycast'],
    ['255.255.255.255', 'broadcast'],
    ['169.254.169.254', 'cloud metadata'],
    ['100.64.0.1', 'CGNAT'],
  ])('%s (%s) is refused', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001:82b::200e'])('%s (global unicast) is allowed', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  const strict = webhookTargetPolicy({ ALLOW_PRIVATE_WEBHOOK_TARGETS: false, WEBHOOK_ALLOWED_PORTS: '80,443' });

  it('only ports 80 and 443 by default (explicit or implied by the scheme)', async () => {
    await expect(assertWebhookUrl('https://8.8.8.8/hook', strict)).resolves.toBeInstanceOf(URL);
    await expect(assertWebhookUrl('http://8.8.8.8:80/hook', strict)).resolves.toBeInstanceOf(URL);
    await expect(assertWebhookUrl('http://8.8.8.8:443/hook', strict)).resolves.toBeInstanceOf(URL);
    for (const u of ['https://8.8.8.8:8443/hook', 'http://8.8.8.8:6379/', 'http://8.8.8.8:22/', 'https://8.8.8.8:9200/']) {
      await expect(assertWebhookUrl(u, strict)).rejects.toMatchObject({ code: 'WEBHOOK_TARGET_REFUSED', message: expect.stringMatching(/port/) });
    }
  });

  it('WEBHOOK_ALLOWED_PORTS widens the list; "*" allows any port', async () => {
    const wider = webhookTargetPolicy({ ALLOW_PRIVATE_WEBHOOK_TARGETS: false, WEBHOOK_ALLOWED_PORTS: '443,8443' });
    await expect(assertWebhookUrl('https://8.8.8.8:8443/hook', wider)).resolves.toBeInstanceOf(URL);
    await expect(assertWebhookUrl('http://8.8.8.8/hook', wider)).rejects.toMatchObject({ code: 'WEBHOOK_TARGET_REFUSED' });
    const any = webhookTargetPolicy({ ALLOW_PRIVATE_WEBHOOK_TARGETS: false, WEBHOOK_ALLOWED_PORTS: '*' });
    await expect(assertWebhookUrl('http://8.8.8.8:9999/hook', any)).resolves.toBeInstanceOf(URL);
  });

  it('a refusal does not echo the address the host resolved to', async () => {
    const err = (await assertWebhookUrl('http://localhost/hook', strict).catch((e: Error) => e)) as Error;
    expect(err).toMatchObject({ code: 'WEBHOOK_TARGET_REFUSED' });
    expect(err.message).not.toMatch(/127\.0\.0\.1|::1/);
    const literal = (await assertWebhookUrl('http://[64:ff9b::a9fe:a9fe]/latest/meta-data', strict).catch((e: Error) => e)) as Error;
    expect(literal).toMatchObject({ code: 'WEBHOOK_TARGET_REFUSED' });
  });
});
