/** The models' time units and hour of the week (UTC), shared by features.ts and competition.feature.ts (which features.ts imports). */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Hour of the week in UTC, Monday 00:00 = 0 … Sunday 23:00 = 167 (1970-01-01 was a Thursday). */
export function hourOfWeek(tMs: number): number {
  const day = Math.floor(tMs / DAY_MS);
  const weekday = (((day + 3) % 7) + 7) % 7;
  return weekday * 24 + Math.floor((((tMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
}
