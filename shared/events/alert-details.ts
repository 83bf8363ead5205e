/**
 * Alert.detailsJson is free-form JSON (the session summary on stream_ended, the threshold crossed on a
 * milestone …). Consumers treat it as decoration: anything that is not a JSON object reads as `{}`, so a
 * malformed producer never stops an alert from being shown or delivered.
 */
export function parseAlertDetails(json: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(json);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
