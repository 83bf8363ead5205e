/**
 * The client side of bench/gateway.bench.ts, run as a child process so the clients do not share the
 * gateway's event loop. Commands arrive over IPC; every client records receipt latency of messages
 * that carry `sentAt` (epoch ms with sub-ms precision from performance.timeOrigin + now()).
 */
import WebSocket from 'ws';
import { io as connectIo, Socket } from 'socket.io-client';

type Kind = 'plain' | 'sio' | 'bare';
interface Group {
  plain: WebSocket[];
  sio: Socket[];
  bare: WebSocket[];
}
const groups = new Map<string, Group>();
const latencies = new Map<string, number[]>();
const counts = new Map<string, number>();
const nowMs = () => performance.timeOrigin + performance.now();

function record(group: string, data: unknown): void {
  counts.set(group, (counts.get(group) ?? 0) + 1);
  const d = data as { sentAt?: number; details?: { sentAt?: number } } | undefined;
  const sentAt = d?.sentAt ?? d?.details?.sentAt;
  if (typeof sentAt === 'number') {
    let arr = latencies.get(group);
    if (!arr) latencies.set(group, (arr = []));
    arr.push(nowMs() - sentAt);
  }
}

function openOne(kind: Kind, group: string, url: string, token: string | undefined, userId: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const g = groups.get(group)!;
    if (kind === 'sio') {
      const s = connectIo(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
      s.onAny((_event: string, data: unknown) => record(group, data));
      s.once('connect', () => {
        g.sio.push(s);
        s.emit('join_stream_channel', { userId }, () => resolve());
      });
      s.once('connect_error', reject);
      return;
    }
    const ws = new WebSocket(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, perMessageDeflate: false });
    ws.once('error', reject);
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { event: string; data: unknown };
      if (msg.event === 'ack') return resolve();
      record(group, msg.data);
    });
    ws.once('open', () => {
      (kind === 'plain' ? g.plain : g.bare).push(ws);
      if (kind === 'plain') ws.send(JSON.stringify({ event: 'join_stream_channel', data: { userId }, id: 1 }));
      else resolve();
    });
  });
}

async function connect(msg: { kind: Kind; group: string; url: string; clients: Array<{ token?: string; userId?: string }>; concurrency: number }) {
  if (!groups.has(msg.group)) groups.set(msg.group, { plain: [], sio: [], bare: [] });
  const t0 = nowMs();
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < msg.clients.length) {
      const c = msg.clients[next++]!;
      await openOne(msg.kind, msg.group, msg.url, c.token, c.userId).catch((e: Error) => {
        failed++;
        firstError ??= e.message;
      });
    }
  };
  await Promise.all(Array.from({ length: msg.concurrency }, worker));
  return { connected: msg.clients.length - failed, failed, firstError, ms: nowMs() - t0 };
}

process.on('message', (raw: { id: number; cmd: string; [k: string]: unknown }) => {
  const reply = (result: unknown) => process.send!({ id: raw.id, result });
  if (raw.cmd === 'connect') void connect(raw as never).then(reply);
  else if (raw.cmd === 'count') reply(counts.get(raw.group as string) ?? 0);
  else if (raw.cmd === 'stats') {
    const group = raw.group as string;
    reply({ count: counts.get(group) ?? 0, latencies: latencies.get(group) ?? [] });
    if (raw.reset) {
      counts.delete(group);
      latencies.delete(group);
    }
  } else if (raw.cmd === 'close') {
    for (const g of groups.values()) {
      for (const ws of [...g.plain, ...g.bare]) ws.terminate();
      for (const s of g.sio) s.disconnect();
    }
    reply({ rssMb: process.memoryUsage().rss / 1e6 });
    setTimeout(() => process.exit(0), 100);
  }
});
process.send!({ ready: true });
