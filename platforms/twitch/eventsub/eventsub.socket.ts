/**
 * One EventSub WebSocket up to its welcome, shared by the push client (eventsub-ws.client.ts) and the
 * chat session (twitch-chat.eventsub.ts): DESIGN.md §4 — the first frame must be `session_welcome`
 * within the welcome timeout; a socket that errors or closes first is a NETWORK PlatformError.
 */
import WebSocket from 'ws';
import { PlatformError } from '../../http/platform-error';
import { twitchEventSubFrame, type TwitchEventSubFrame } from '../twitch.external';

export interface EventSubWelcome {
  sessionId: string;
  keepaliveMs: number;
}

/** A frame as Twitch sends it, or null for anything malformed or unknown (skipped, the session kept). */
export function parseEventSubFrame(raw: WebSocket.RawData): TwitchEventSubFrame | null {
  try {
    const r = twitchEventSubFrame.safeParse(JSON.parse(raw.toString()));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/**
 * Opens `url` and, on its welcome, calls `attach` synchronously (frames that arrive in the same chunk as
 * the welcome reach the listeners it adds), then resolves with what `attach` returned. The pre-welcome
 * listeners are removed first; `attach` adds the session's own.
 */
export function openEventSubSocket<T>(url: string, welcomeTimeoutMs: number, attach: (ws: WebSocket, welcome: EventSubWelcome) => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const ws = new WebSocket(url);
    const fail = (why: string, cause?: unknown) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      reject(new PlatformError('NETWORK', `EventSub WebSocket: ${why}`, { platform: 'twitch', endpoint: 'eventsub.ws', cause }));
    };
    const timer = setTimeout(() => fail('no welcome message'), welcomeTimeoutMs);
    ws.once('error', (err) => fail('connection failed', err));
    ws.once('close', (code) => fail(`closed (${code}) before the welcome`));
    ws.once('message', (raw) => {
      const f = parseEventSubFrame(raw);
      if (!f || f.metadata.message_type !== 'session_welcome' || !f.payload.session) return fail('first frame was not session_welcome');
      clearTimeout(timer);
      ws.removeAllListeners('error');
      ws.removeAllListeners('close');
      try {
        resolve(attach(ws, { sessionId: f.payload.session.id, keepaliveMs: (f.payload.session.keepalive_timeout_seconds ?? 10) * 1000 }));
      } catch (err) {
        fail('session set-up failed', err);
      }
    });
  });
}

/** Closes a session's socket with `code` when it is open, else drops it; a socket already gone is no error. */
export function closeEventSubSocket(ws: WebSocket, code: number): void {
  try {
    if (ws.readyState === WebSocket.OPEN) ws.close(code);
    else ws.terminate();
  } catch {
    /* already gone */
  }
}
