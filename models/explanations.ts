import { ChannelContext, hourOfWeek, SEASONAL_LOOKBACK_DAYS } from './features';
import type { ViewerBaseline, ViewerServingDecision } from './viewers.model';

/**
 * Reasons a creator can check against their own history: every number in a text is a mean of their
 * own live hours (features.ts `ChannelContext.seasonal`: UTC hours with ≥ 20 live minutes in the last
 * SEASONAL_LOOKBACK_DAYS), or a holdout figure recorded with the model. The structured fields carry the
 * same numbers for a dashboard to render its own way.
 */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** How many of the newest streams in a slot a reason averages. */
export const REASON_STREAMS = 6;

export interface SlotReason {
  text: string;
  /** How many of the channel's streams the reason averages: its newest ones in this slot, or at this hour on other days when it never streamed in the slot. */
  streams: number;
  /** 'slot' = this hour of this weekday; 'hour' = this UTC hour on any weekday; 'none' = never live at this hour. */
  basis: 'slot' | 'hour' | 'none';
  /** Mean viewers of those streams in that hour (null when none). */
  meanViewers: number | null;
  /** The channel's mean viewers over all its live hours of the lookback. */
  channelMeanViewers: number;
  /** meanViewers against channelMeanViewers, in percent (null when none). */
  vsChannelMeanPercent: number | null;
}

export const slotLabel = (how: number): string => `${WEEKDAYS[Math.floor(how / 24)]} ${String(how % 24).padStart(2, '0')}:00 UTC`;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const viewersText = (v: number) => (v >= 10 ? String(Math.round(v)) : v.toFixed(1));
const round1 = (x: number) => Math.round(x * 10) / 10;

function versus(pct: number): string {
  const r = Math.round(pct);
  return r === 0 ? 'the same as your mean' : `${Math.abs(r)} % ${r > 0 ? 'above' : 'below'} your mean`;
}

export function explainSlot(ctx: ChannelContext, how: number): SlotReason {
  const weeks = Math.round(SEASONAL_LOOKBACK_DAYS / 7);
  const channelMean = ctx.seasonal.level;
  const label = slotLabel(how);
  const seen = ctx.seasonal.slots[how]!;
  let basis: SlotReason['basis'] = 'slot';
  let used = seen.slice(-REASON_STREAMS);
  if (used.length === 0) {
    basis = 'hour';
    used = ctx.seasonal.slots
      .filter((_, s) => s % 24 === how % 24)
      .flat()
      .sort((a, b) => a.hourStart - b.hourStart)
      .slice(-REASON_STREAMS);
  }
  if (used.length === 0) {
    return {
      text: `${label}: you have not been live at this hour in the last ${weeks} weeks; the estimate comes from your other hours and weekdays`,
      streams: 0, basis: 'none', meanViewers: null, channelMeanViewers: round1(channelMean), vsChannelMeanPercent: null,
    };
  }
  const m = mean(used.map((x) => x.viewers));
  const pct = (m / channelMean - 1) * 100;
  const n = used.length;
  const streams = `${n === 1 ? 'stream' : `${n} streams`}`;
  const text =
    basis === 'slot'
      ? `${label}: your ${n === 1 ? 'last stream' : `last ${streams}`} in this slot averaged ${viewersText(m)} viewers, ${versus(pct)} (${viewersText(channelMean)})`
      : `${label}: no stream of yours in this slot in the last ${weeks} weeks; your ${n === 1 ? 'last stream' : `last ${streams}`} at ${String(how % 24).padStart(2, '0')}:00 UTC on other days averaged ${viewersText(m)} viewers, ${versus(pct)} (${viewersText(channelMean)})`;
  return { text, streams: n, basis, meanViewers: round1(m), channelMeanViewers: round1(channelMean), vsChannelMeanPercent: Math.round(pct) };
}

/** How the served number did on its holdout, against the best simple baseline. */
export interface HoldoutComparison {
  /** Held-out streams the comparison ran on (the last days before training, never trained on). */
  sessions: number;
  modelMae: number;
  baseline: ViewerBaseline;
  baselineMae: number;
  /** (baselineMae − modelMae) / baselineMae in percent: how much lower the model's error was (negative = it lost). */
  improvementPercent: number;
}

export const BASELINE_LABELS: Record<ViewerBaseline, string> = {
  'channel-mean': 'your mean over all earlier streams',
  'same-hour-last-week': 'your viewers in the same hours last week',
  'channel-hour-of-week': 'your mean in these hours of the week, shrunk toward your overall mean',
};

export function holdoutComparison(s: ViewerServingDecision): HoldoutComparison {
  return {
    sessions: s.holdoutSessions,
    modelMae: s.modelMae,
    baseline: s.bestBaseline,
    baselineMae: s.bestBaselineMae,
    improvementPercent: Math.round(((s.bestBaselineMae - s.modelMae) / s.bestBaselineMae) * 1000) / 10,
  };
}

export function explainPrediction(s: ViewerServingDecision, start: number): string {
  const c = holdoutComparison(s);
  const when = slotLabel(hourOfWeek(start));
  if (s.name === 'viewers') {
    return `${when}: model prediction. On ${c.sessions} held-out streams its mean error was ${viewersText(c.modelMae)} viewers, ${Math.abs(c.improvementPercent)} % ${c.improvementPercent >= 0 ? 'lower' : 'higher'} than the best simple baseline (${BASELINE_LABELS[c.baseline]}: ${viewersText(c.baselineMae)}).`;
  }
  return `${when}: this is a baseline, ${BASELINE_LABELS[c.baseline]}. The trained model lost to it on ${c.sessions} held-out streams (mean error ${viewersText(c.modelMae)} against ${viewersText(c.baselineMae)} viewers), so the baseline is served.`;
}
