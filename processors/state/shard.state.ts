import { alertIds, AlertRuleSettings, HistoryWindow, historyWindow, judgeWindow } from '../alerts/alert.rules';
import { drop, ok, redirect, StepResult } from '../pipeline/step.result';
import type { Outputs, PendingEnd } from '../sink/outputs';
import { channelKeyOf } from '../../shared/kafka/topics';
import { LifecycleEvent, Position, ProcessorEvent, SnapshotEvent, WINDOW_MS, windowStartOf } from './processor-event';
import { CarriedPaid, ClosedWindow, WindowAccumulator } from './window.accumulator';

export interface ShardSettings {
  latenessMs: number;
  rules: AlertRuleSettings;
}

/**
 * What the last commit of this shard recorded (in the Kafka offset metadata): the highest event time
 * seen, and per topic the position processed up to. Replayed messages below that position whose window
 * had already closed at the checkpoint were fully accounted for before the commit and are skipped.
 */
export interface Checkpoint {
  maxEventTime: number;
  replayUntil: Map<string, number>;
}

export interface OpenSession {
  streamId: string;
  startedAt: number;
  title: string | null;
  category: string | null;
}

/** Per channel, what survives a restart through ClickHouse: recent closed windows and the open session. */
export interface RestoredChannel {
  platform: string;
  channelId: string;
  userId: string;
  history: HistoryWindow[];
  session: OpenSession | null;
}

interface ChannelState {
  platform: string;
  channelId: string;
  userId: string;
  open: Map<number, WindowAccumulator>;
  history: HistoryWindow[];
  session: OpenSession | null;
  /** Stream ids ended recently: a duplicate or straggling event must not reopen or re-end them. */
  ended: string[];
}

const RECENTLY_ENDED = 16;
/** One shared result object: `process` runs once per event. */
const OK: StepResult<void> = ok(undefined);

/**
 * The event-time state of one shard: partition number p of every input topic (they are co-partitioned
 * by the "<platform>:<channelId>" key, so all of a channel's events meet here). Pure and synchronous:
 * it is fed events in order and appends results to Outputs; Kafka and ClickHouse are the loop's business.
 *
 * Watermark = highest event time seen in the shard − allowed lateness. The window [s, s+1 min) closes
 * when the watermark reaches s+1 min; an event whose window has closed is late (side table, metric).
 */
export class ShardState {
  private maxEventTime: number;
  private readonly checkpointWatermark: number;
  /** Per platform, per channel id: no "<platform>:<channelId>" string is built per event. */
  private readonly channels = new Map<string, Map<string, ChannelState>>();
  /** Window starts with open windows, ascending, and the channels holding each. */
  private readonly openStarts: number[] = [];
  private readonly openByStart = new Map<number, ChannelState[]>();
  private pendingEnds: PendingEnd[] = [];
  /** Per channel, the starts of its open windows that changed since its last early firing. */
  private readonly changed = new Map<ChannelState, Set<number>>();

  constructor(
    readonly partition: number,
    private readonly s: ShardSettings,
    private readonly checkpoint: Checkpoint | null = null,
    restored: RestoredChannel[] = [],
  ) {
    this.maxEventTime = checkpoint?.maxEventTime ?? Number.NEGATIVE_INFINITY;
    this.checkpointWatermark = this.maxEventTime - s.latenessMs;
    for (const r of restored) {
      this.channelsOf(r.platform).set(r.channelId, { platform: r.platform, channelId: r.channelId, userId: r.userId, open: new Map(), history: r.history, session: r.session, ended: [] });
    }
  }

  watermark(): number {
    return this.maxEventTime - this.s.latenessMs;
  }

  highestEventTime(): number {
    return this.maxEventTime;
  }

  process(e: ProcessorEvent, pos: Position, out: Outputs): StepResult<void> {
    const windowEnd = windowStartOf(e.t) + WINDOW_MS;
    const replayUntil = this.checkpoint?.replayUntil.get(pos.topic);
    if (replayUntil !== undefined && pos.offset < replayUntil && windowEnd <= this.checkpointWatermark) return drop('replayed');

    const wm = this.watermark();
    const closed = windowEnd <= wm;
    const ch = this.channel(e);
    if (e.userId) ch.userId = e.userId;

    if (e.kind === 'lifecycle') {
      // Session boundaries are never late: a stream that ended must end, whatever the watermark says.
      if (!closed && !this.accumulator(ch, windowEnd - WINDOW_MS).add(e, pos)) return drop('duplicate');
      this.applyLifecycle(ch, e, pos, out);
    } else {
      if (closed) {
        out.late.push({ event: e, pos: { topic: pos.topic, partition: pos.partition, offset: pos.offset }, watermark: wm });
        return redirect('late_events', wm);
      }
      if (!this.accumulator(ch, windowEnd - WINDOW_MS).add(e, pos)) return drop('duplicate');
      let starts = this.changed.get(ch);
      if (!starts) this.changed.set(ch, (starts = new Set()));
      starts.add(windowEnd - WINDOW_MS);
      if (e.kind === 'snapshot') this.applySnapshot(ch, e, pos, out);
    }

    if (e.t > this.maxEventTime) {
      this.maxEventTime = e.t;
      this.closeUpTo(this.watermark(), out);
    }
    return OK;
  }

  /**
   * Early firing: the provisional figures of every open window that changed since its channel's last
   * firing, for each channel that is `due` (the loop keeps the wall-clock pace) — not only the newest:
   * the last poll of a minute often lands after the next minute opened, and must not wait for the close.
   * Nothing closes and nothing is written: a window's final result still comes when the watermark closes it.
   */
  takeEarlyFirings(due: (channelKey: string) => boolean): ClosedWindow[] {
    const fired: ClosedWindow[] = [];
    for (const [ch, starts] of this.changed) {
      if (!due(channelKeyOf(ch))) continue;
      this.changed.delete(ch);
      for (const start of [...starts].sort((a, b) => a - b)) {
        const acc = ch.open.get(start);
        if (acc?.hasMetrics) fired.push(acc.finalize(this.carriedFollowers(ch.history, start), ch.session?.streamId ?? null, this.carriedPaid(ch.history, start)));
      }
    }
    return fired;
  }

  /** Ended sessions whose last window has closed: ready to be summarised from metrics_1m. */
  takeReadyEnds(): PendingEnd[] {
    const wm = this.watermark();
    const ready = this.pendingEnds.filter((p) => windowStartOf(p.endedAt) + WINDOW_MS <= wm);
    if (ready.length) this.pendingEnds = this.pendingEnds.filter((p) => !ready.includes(p));
    return ready;
  }

  /**
   * The offset that may be committed for a topic: nothing below the lowest offset still needed by an
   * open window or an unsummarised session end, and nothing not yet processed.
   */
  committableOffset(topic: string, nextUnprocessed: number): number {
    let min = nextUnprocessed;
    for (const ch of this.allChannels()) {
      for (const acc of ch.open.values()) {
        const o = acc.minOffsets.get(topic);
        if (o !== undefined && o < min) min = o;
      }
    }
    for (const p of this.pendingEnds) if (p.pos.topic === topic && p.pos.offset < min) min = p.pos.offset;
    return min;
  }

  /** Replay positions to record with the next commit: never behind what an earlier checkpoint covered. */
  replayUntilFor(topic: string, nextUnprocessed: number): number {
    return Math.max(nextUnprocessed, this.checkpoint?.replayUntil.get(topic) ?? 0);
  }

  openWindowCount(): number {
    let n = 0;
    for (const ch of this.allChannels()) n += ch.open.size;
    return n;
  }

  private channelsOf(platform: string): Map<string, ChannelState> {
    let byId = this.channels.get(platform);
    if (!byId) this.channels.set(platform, (byId = new Map()));
    return byId;
  }

  private *allChannels(): IterableIterator<ChannelState> {
    for (const byId of this.channels.values()) yield* byId.values();
  }

  private channel(e: ProcessorEvent): ChannelState {
    const byId = this.channelsOf(e.platform);
    let ch = byId.get(e.channelId);
    if (!ch) {
      ch = { platform: e.platform, channelId: e.channelId, userId: e.userId, open: new Map(), history: [], session: null, ended: [] };
      byId.set(e.channelId, ch);
    }
    return ch;
  }

  private accumulator(ch: ChannelState, start: number): WindowAccumulator {
    let acc = ch.open.get(start);
    if (!acc) {
      acc = new WindowAccumulator(ch.platform, ch.channelId, ch.userId, start);
      ch.open.set(start, acc);
      let holders = this.openByStart.get(start);
      if (!holders) {
        holders = [];
        this.openByStart.set(start, holders);
        let i = this.openStarts.length;
        while (i > 0 && this.openStarts[i - 1]! > start) i--;
        this.openStarts.splice(i, 0, start);
      }
      holders.push(ch);
    }
    return acc;
  }

  private closeUpTo(wm: number, out: Outputs): void {
    while (this.openStarts.length > 0 && this.openStarts[0]! + WINDOW_MS <= wm) {
      const start = this.openStarts.shift()!;
      const holders = this.openByStart.get(start)!;
      this.openByStart.delete(start);
      for (const ch of holders) {
        const acc = ch.open.get(start);
        if (!acc) continue;
        ch.open.delete(start);
        if (acc.hasMetrics) this.closeWindow(ch, acc, out);
      }
    }
  }

  private closeWindow(ch: ChannelState, acc: WindowAccumulator, out: Outputs): void {
    const horizon = acc.windowStart - this.s.rules.baselineWindows * WINDOW_MS;
    // The baseline: the channel's closed windows within the horizon and before this one. Windows close in
    // start order, so this is normally the history with its oldest entries dropped, trimmed in place.
    let history = ch.history;
    let from = 0;
    while (from < history.length && history[from]!.windowStart < horizon) from++;
    let inOrder = true;
    for (let i = from; i < history.length; i++) {
      const start = history[i]!.windowStart;
      if (start < horizon || start >= acc.windowStart) inOrder = false;
    }
    if (!inOrder) history = history.filter((h) => h.windowStart >= horizon && h.windowStart < acc.windowStart);
    else if (from > 0) history.splice(0, from);
    const carried = this.carriedFollowers(history, acc.windowStart);
    const w = acc.finalize(carried, ch.session?.streamId ?? null, this.carriedPaid(history, acc.windowStart));
    const judged = judgeWindow(w, history, carried, this.s.rules);
    out.windows.push(w);
    for (const a of judged.alerts) out.alerts.push(a);
    const live = ch.session;
    if (live && w.streamId === live.streamId) {
      out.liveSessions.set(`${ch.platform}:${ch.channelId}:${live.streamId}`, {
        platform: ch.platform, channelId: ch.channelId, userId: ch.userId, streamId: live.streamId, startedAt: live.startedAt,
        title: live.title, category: live.category, throughMs: w.windowStart + WINDOW_MS,
      });
    }
    history.push(historyWindow(w, judged.spike, judged.drop));
    ch.history = history;
  }

  /** The follower count carried into a window: the newest known in the recent closed windows before it. */
  private carriedFollowers(history: readonly HistoryWindow[], windowStart: number): number | null {
    const horizon = windowStart - this.s.rules.baselineWindows * WINDOW_MS;
    for (let i = history.length - 1; i >= 0; i--) {
      const h = history[i]!;
      if (h.windowStart < horizon) break;
      if (h.windowStart < windowStart && h.followers !== null) return h.followers;
    }
    return null;
  }

  /** The paid subscribers (and points) carried into a window, as the follower count is. */
  private carriedPaid(history: readonly HistoryWindow[], windowStart: number): CarriedPaid | null {
    const horizon = windowStart - this.s.rules.baselineWindows * WINDOW_MS;
    for (let i = history.length - 1; i >= 0; i--) {
      const h = history[i]!;
      if (h.windowStart < horizon) break;
      if (h.windowStart < windowStart && h.paidSubscribers != null) return { subscribers: h.paidSubscribers, points: h.subscriptionPoints ?? null };
    }
    return null;
  }

  private applySnapshot(ch: ChannelState, e: SnapshotEvent, pos: Position, out: Outputs): void {
    if (!e.live || e.streamId === null || ch.ended.includes(e.streamId)) return;
    if (ch.session?.streamId === e.streamId) return;
    // A live snapshot of another stream means the previous one is over, even if its end was missed.
    if (ch.session) this.endSession(ch, ch.session.streamId, e.t, pos);
    this.startSession(ch, { streamId: e.streamId, startedAt: e.startedAt ?? e.t, title: e.title, category: e.category }, out);
  }

  private applyLifecycle(ch: ChannelState, e: LifecycleEvent, pos: Position, out: Outputs): void {
    if (ch.ended.includes(e.streamId)) return;
    if (e.type === 'started') {
      if (ch.session?.streamId === e.streamId) return;
      if (ch.session) this.endSession(ch, ch.session.streamId, e.t, pos);
      this.startSession(ch, { streamId: e.streamId, startedAt: e.t, title: e.title, category: e.category }, out);
    } else if (e.type === 'ended') {
      this.endSession(ch, e.streamId, e.t, pos);
    } else if (ch.session?.streamId === e.streamId) {
      ch.session.title = e.title ?? ch.session.title;
      ch.session.category = e.category ?? ch.session.category;
    }
  }

  private startSession(ch: ChannelState, session: OpenSession, out: Outputs): void {
    ch.session = session;
    out.sessions.push({
      platform: ch.platform, channelId: ch.channelId, userId: ch.userId, streamId: session.streamId, startedAt: session.startedAt,
      endedAt: null, durationSeconds: 0, peakViewers: 0, avgViewers: 0, hoursWatched: 0, followersGained: 0, chatMessages: 0,
      title: session.title, category: session.category, status: 'live',
    });
    out.alerts.push({
      alertId: alertIds.streamStarted(ch.platform, ch.channelId, session.streamId), type: 'stream_started', userId: ch.userId,
      platform: ch.platform, channelId: ch.channelId, occurredAt: session.startedAt, severity: 'info',
      message: `Stream started${session.title ? `: ${session.title}` : ''}`,
      details: { streamId: session.streamId, startedAt: session.startedAt, title: session.title, category: session.category },
    });
  }

  private endSession(ch: ChannelState, streamId: string, endedAt: number, pos: Position): void {
    const known = ch.session?.streamId === streamId ? ch.session : null;
    this.pendingEnds.push({
      platform: ch.platform, channelId: ch.channelId, userId: ch.userId, streamId, startedAt: known?.startedAt ?? null, endedAt,
      title: known?.title ?? null, category: known?.category ?? null, pos: { topic: pos.topic, partition: pos.partition, offset: pos.offset },
    });
    if (known) ch.session = null;
    ch.ended.push(streamId);
    if (ch.ended.length > RECENTLY_ENDED) ch.ended.shift();
  }
}
