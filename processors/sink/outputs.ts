import type { IHeaders } from 'kafkajs';
import type { RaisedAlert } from '../alerts/alert.rules';
import type { ClosedWindow } from '../state/window.accumulator';
import type { Position, ProcessorEvent } from '../state/processor-event';

/** A stream session as stored in stream_sessions: `live` while it runs, `ended` with the summary. */
export interface SessionRow {
  platform: string;
  channelId: string;
  userId: string;
  streamId: string;
  startedAt: number;
  endedAt: number | null;
  durationSeconds: number;
  peakViewers: number;
  avgViewers: number;
  hoursWatched: number;
  followersGained: number;
  /** Twitch paid subscribers gained over the session's windows; null (absent) when no window knew the total. */
  paidSubscribersGained?: number | null;
  chatMessages: number;
  title: string | null;
  category: string | null;
  status: 'live' | 'ended';
}

/** A session whose end was seen; it is summarised once the watermark has closed its last window. */
export interface PendingEnd {
  platform: string;
  channelId: string;
  userId: string;
  streamId: string;
  /** Null when the start was never seen by this processor (found again from ClickHouse at summary time). */
  startedAt: number | null;
  endedAt: number;
  title: string | null;
  category: string | null;
  pos: Position;
}

/** A session still live whose window just closed: its running summary is re-read and rewritten at the next flush. */
export interface LiveSessionRef {
  platform: string;
  channelId: string;
  userId: string;
  streamId: string;
  startedAt: number;
  title: string | null;
  category: string | null;
  /** End of the newest closed window of the session: "duration so far" runs to here. */
  throughMs: number;
}

export interface LateRow {
  event: ProcessorEvent;
  pos: Position;
  watermark: number;
}

export interface DlqMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/**
 * The named outputs of the pipeline (STYLE: PostHog's outputs): steps and the window state append
 * here; the consumer loop writes them all — ClickHouse, then Kafka — before it commits.
 */
export class Outputs {
  windows: ClosedWindow[] = [];
  late: LateRow[] = [];
  alerts: RaisedAlert[] = [];
  sessions: SessionRow[] = [];
  dlq: DlqMessage[] = [];
  /** Keyed by "<platform>:<channelId>:<streamId>": one running summary per session and flush. */
  liveSessions = new Map<string, LiveSessionRef>();

  get size(): number {
    return this.windows.length + this.late.length + this.alerts.length + this.sessions.length + this.dlq.length;
  }

  /** Hands the current contents to a flush and starts empty. */
  take(): Outputs {
    const taken = new Outputs();
    [taken.windows, taken.late, taken.alerts, taken.sessions, taken.dlq] = [this.windows, this.late, this.alerts, this.sessions, this.dlq];
    taken.liveSessions = this.liveSessions;
    this.liveSessions = new Map();
    this.windows = [];
    this.late = [];
    this.alerts = [];
    this.sessions = [];
    this.dlq = [];
    return taken;
  }
}
