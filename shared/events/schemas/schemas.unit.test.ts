import { createHash } from 'node:crypto';
import { SCHEMAS, type SchemaName } from '../events';

/**
 * The registry receives each record's `JSON.stringify` text: a change of that text (a doc, a field's
 * key order, a fragment that stringifies differently) registers a new version under a new schema id,
 * so producers' bytes change. These are the SHA-256 of each record's text as registered before the
 * split into one file per record (issue 21). Change a line here only when you evolve that schema on
 * purpose (adding a field with a default), together with the schema.
 */
const REGISTERED_TEXT_SHA256: Record<SchemaName, string> = {
  StreamSnapshot: 'cb317436c3da8777b79d0def3fab27458a2df754a82e4a8bddb498e79b9b1a1a',
  // Issue 18.3: Twitch paid subscribers and points beside followers (two fields defaulting to null: BACKWARD compatible) and the doc.
  FollowerCount: '59d00b96a3340a828153049ee93ca02c4e7ade61f9ab4f3afca2511c5acac856',
  // Issue 18 (quota planner): samplingRate, the share of the chat the source read (a double defaulting to 1: BACKWARD compatible).
  ChatActivity: 'cdd7374a73a23d9d6f322181c8890a38d6959110e604adfd894885030083c779',
  StreamLifecycle: 'b9c747e7b5cd5ad09e437097bbabe06c557bf0f1f1f2c7015fc0d683eb63f333',
  // Issue 18.2: the type doc lists the pushed audience alert types (a doc change: BACKWARD compatible).
  Alert: 'c54413fb2415f53d7430c7154088fb3fa13e57e7f902256334ab3ed1b91a0d91',
  // Issue 18 (quota planner): chatSamplingRate, the window's lowest chat sampling rate (a double defaulting to 1: BACKWARD compatible).
  MetricWindow: '6e3c595d2d9c4d6144794ff166edd8f910aed5251ea9218c235147a776a8e0aa',
  Heartbeat: 'a17befc112f2b9e8a6816e8d2831b7f1fe46092a158c334c2c7700c5c4f2d8f8',
  // Added with issue 18.2 (Twitch EventSub push).
  ChannelEvent: 'd694b051f3ec87d14bc083de190c5f3774929c83f714908cd3d26960d2e263cd',
};

describe('event schemas (one file per record)', () => {
  it.each(Object.keys(SCHEMAS) as SchemaName[])('%s stringifies to the exact text already registered', (name) => {
    const text = JSON.stringify(SCHEMAS[name]);
    expect(createHash('sha256').update(text).digest('hex')).toBe(REGISTERED_TEXT_SHA256[name]);
  });

  it('every record is pinned and is registered under its own name', () => {
    expect(Object.keys(SCHEMAS).sort()).toEqual(Object.keys(REGISTERED_TEXT_SHA256).sort());
    for (const [name, schema] of Object.entries(SCHEMAS)) expect(schema.name).toBe(name);
  });
});
