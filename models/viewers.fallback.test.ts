import type { ChannelHistory } from './channel-history';
import { DAY_MS, HOUR_MS } from './features';
import { useBackend } from './tf.backend';
import { servedValue, trainViewerModel, VIEWER_DEFAULTS } from './viewers.model';

const END = Date.UTC(2026, 10, 20);

/** Channels streaming 18:00–21:00 UTC every day at a constant audience: every baseline is exact. */
function constantChannels(): ChannelHistory[] {
  return [50, 100, 200, 400].map((v, i) => {
    const h: ChannelHistory = { platform: 'twitch', channelId: `c${i}`, sessions: [], hours: [] };
    for (let d = 42; d >= 1; d--) {
      const start = END - d * DAY_MS + 18 * HOUR_MS;
      h.sessions.push({ streamId: `c${i}-${d}`, startedAt: start, endedAt: start + 3 * HOUR_MS, avgViewers: v, peakViewers: v, category: 'Art' });
      for (let k = 0; k < 3; k++) h.hours.push({ hourStart: start + k * HOUR_MS, viewers: v, liveMinutes: 60, followers: 1000 });
    }
    return h;
  });
}

describe('viewer model: the holdout decides what is served', () => {
  beforeAll(() => useBackend('cpu'));

  it('a net that loses to the best baseline on its holdout is not served: the baseline is, under its own name', async () => {
    // The net's correction at full weight (no stacking choice), so the net itself is what is compared.
    const trained = await trainViewerModel(constantChannels(), { ...VIEWER_DEFAULTS, epochs: 2, splitAt: END - 7 * DAY_MS + 18 * HOUR_MS - 1, seed: 1, residualWeights: [1] });
    trained.model.dispose();
    // Every baseline predicts the constant exactly; a freshly trained net is a little off.
    expect(trained.metrics.best_baseline_mae).toBe(0);
    expect(trained.metrics.mae).toBeGreaterThan(0);
    expect(trained.serving.name).toBe(`baseline:${trained.serving.bestBaseline}`);
    expect(trained.serving).toMatchObject({ bestBaselineMae: 0, holdoutSessions: trained.holdout.length });
    expect(trained.metrics.serves_baseline).toBe(1);
    // What is served is the baseline's number (MAE 0), never the net's.
    expect(trained.metrics.served_mae).toBe(0);
    const row = trained.holdout[0]!;
    expect(servedValue(trained.serving.name, () => row.model, row.baselines)).toBe(row.actual);
    // The interval of the served baseline is calibrated on its own (zero) errors.
    expect(trained.serving.intervalQ).toBe(0);
    expect(trained.metrics.interval80_coverage).toBe(1);
  });

  it('the calibration week weighs the net: a correction that only adds error gets weight 0, and the model is the profile it corrects', async () => {
    const trained = await trainViewerModel(constantChannels(), { ...VIEWER_DEFAULTS, epochs: 2, splitAt: END - 7 * DAY_MS + 18 * HOUR_MS - 1, seed: 1 });
    trained.model.dispose();
    expect(trained.metrics.calibration_sessions).toBeGreaterThanOrEqual(10);
    expect(trained.residualWeight).toBe(0);
    // A constant audience: the channel's fitted profile is the constant, so the model is exact.
    expect(trained.metrics.mae).toBeCloseTo(0, 6);
  });

  it('servedValue returns the net only when the net is served', () => {
    const baselines = { 'channel-mean': 1, 'same-hour-last-week': 2, 'channel-hour-of-week': 3 };
    expect(servedValue('viewers', () => 9, baselines)).toBe(9);
    expect(servedValue('baseline:channel-hour-of-week', () => 9, baselines)).toBe(3);
    expect(servedValue('baseline:channel-mean', () => 9, baselines)).toBe(1);
  });
});
