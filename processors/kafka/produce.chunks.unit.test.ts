import { chunkTopicMessages } from './produce.chunks';

const msgs = (topic: string, n: number) => Array.from({ length: n }, (_, i) => ({ key: `${topic}-k${i % 3}`, value: Buffer.from(`${topic}-${i}`) }));
const values = (chunks: ReturnType<typeof chunkTopicMessages>, topic: string) =>
  chunks.flatMap((c) => c.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => String(m.value))));

describe('chunkTopicMessages: a large produce goes out as several sendBatch calls of bounded size', () => {
  it('no chunk holds more than the bound, each topic once per chunk, every message kept in its order', () => {
    const input = [{ topic: 'windows', messages: msgs('windows', 2500) }, { topic: 'alerts', messages: msgs('alerts', 700) }, { topic: 'dlq', messages: msgs('dlq', 3) }];
    const chunks = chunkTopicMessages(input, 1000);
    expect(chunks.map((c) => c.reduce((n, t) => n + t.messages.length, 0))).toEqual([1000, 1000, 1000, 203]);
    for (const c of chunks) expect(new Set(c.map((t) => t.topic)).size).toBe(c.length);
    for (const t of input) expect(values(chunks, t.topic)).toEqual(t.messages.map((m) => String(m.value)));
  });

  it('a small produce is one sendBatch, unchanged; nothing to send is no call', () => {
    const input = [{ topic: 'windows', messages: msgs('windows', 10) }, { topic: 'alerts', messages: msgs('alerts', 2) }];
    expect(chunkTopicMessages(input, 1000)).toEqual([input]);
    expect(chunkTopicMessages([{ topic: 'windows', messages: [] }], 1000)).toEqual([]);
  });
});
