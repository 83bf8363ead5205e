import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod/v4';
import type { TimeRange } from '../schemas/common.schemas';
import { type ChannelKey, seriesQuery, sessionsQuery } from '../metrics/metrics.repository';

/**
 * CSV and Parquet exports of the metrics series and the sessions, written by ClickHouse itself
 * (`FORMAT CSVWithNames` / `FORMAT Parquet`) and streamed through to the client: the API never holds the
 * file. The SQL is the JSON route's own bound-parameter query, wrapped to rename its columns to the
 * JSON answer's field names, so a CSV row and a JSON point describe the same thing with the same name.
 * Times are ClickHouse DateTime64(3, 'UTC') values: `YYYY-MM-DD hh:mm:ss.sss` (UTC) in CSV, timestamps in Parquet.
 * CSV is spreadsheet-safe: strings quoted, formula-looking text cells prefixed with `'`, NULL as an empty cell.
 */
export type ExportFormat = 'csv' | 'parquet';

export const EXPORT_TYPES: Record<ExportFormat, { contentType: string; clickhouse: string; ext: string; settings: Record<string, string> }> = {
  // NULL is an empty (unquoted) cell, as spreadsheets and CSV readers expect — not ClickHouse's `\N`.
  csv: { contentType: 'text/csv; charset=utf-8', clickhouse: 'CSVWithNames', ext: 'csv', settings: { format_csv_null_representation: '' } },
  parquet: { contentType: 'application/vnd.apache.parquet', clickhouse: 'Parquet', ext: 'parquet', settings: {} },
};

export const formatParam = z.enum(['json', 'csv', 'parquet'], { error: 'must be one of json, csv, parquet' }).optional()
  .describe('Answer format; overrides Accept (text/csv, application/vnd.apache.parquet)');

/** `?format=` wins; otherwise the first media type of Accept we can produce (no q-value ordering games). */
export function negotiateExport(format: 'json' | 'csv' | 'parquet' | undefined, accept: string | undefined): ExportFormat | null {
  if (format) return format === 'json' ? null : format;
  for (const part of (accept ?? '').split(',')) {
    const type = part.split(';')[0]!.trim().toLowerCase();
    if (type === 'text/csv') return 'csv';
    if (type === 'application/vnd.apache.parquet' || type === 'application/parquet' || type === 'application/x-parquet') return 'parquet';
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return null;
  }
  return null;
}

export function seriesExportQuery(c: ChannelKey, range: TimeRange, stepSeconds: number) {
  const q = seriesQuery(c, range, stepSeconds);
  return {
    query: `SELECT bucket AS start, liveMinutes, sampleCount AS samples, avgViewers, peakViewers, minViewers, viewerMinutes,
              lastFollowers AS followers, followerDelta, chatMessages, uniqueChatters, engagementRate,
              chatSamplingRate, toBool(chatSamplingRate < 1) AS chatSampled,
              lastPaidSubscribers AS paidSubscribers, paidSubscriberDelta, lastSubscriptionPoints AS subscriptionPoints
       FROM (${q.query})`,
    params: q.params,
  };
}

/**
 * A string column as a spreadsheet-safe CSV cell (OWASP "CSV injection"): a cell starting with = + - @
 * tab or CR would run as a formula in Excel, LibreOffice or Sheets, so it gets a leading single quote.
 * Titles and categories are whatever the creator (or a compromised account) typed. Constant SQL text,
 * applied to our own column names only; Parquet keeps the values as they are (no formulas there).
 */
const csvText = (column: string, format: ExportFormat) => (format === 'csv' ? `if(match(${column}, '^[=+\\-@\\t\\r]'), concat('''', ${column}), ${column})` : column);

export function sessionsExportQuery(c: ChannelKey, range: TimeRange, limit: number, format: ExportFormat = 'csv') {
  const q = sessionsQuery(c, range, limit);
  const text = (column: string) => csvText(column, format);
  return {
    query: `SELECT ${text('stream_id')} AS streamId, ${text('status')} AS status, started_at AS startedAt, ended_at AS endedAt, duration_seconds AS durationSeconds,
              peak_viewers AS peakViewers, avg_viewers AS avgViewers, hours_watched AS hoursWatched,
              followers_gained AS followersGained, paid_subscribers_gained AS paidSubscribersGained, chat_messages AS chatMessages,
              ${text('title')} AS title, ${text('category')} AS category
       FROM (${q.query})`,
    params: q.params,
  };
}

export class ChannelExporter {
  constructor(private readonly client: ClickHouseClient) {}

  /**
   * Runs the query with the format clause and pipes ClickHouse's HTTP body to the response. An error
   * before the first byte (bad query, ClickHouse down) rejects before any header is sent, so the error
   * middleware still answers problem+json; a failure mid-stream can only cut the response short.
   */
  async stream(_req: Request, res: Response, q: { query: string; params: Record<string, unknown> }, format: ExportFormat, filename: string): Promise<void> {
    const t = EXPORT_TYPES[format];
    // A client that goes away cancels the ClickHouse request (res 'close' before the response finished;
    // req 'close' would not do: it fires once the request body is consumed).
    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.once('close', onClose);
    try {
      const result = await this.client.exec({ query: `${q.query}\nFORMAT ${t.clickhouse}`, query_params: q.params, clickhouse_settings: t.settings, abort_signal: abort.signal });
      res.status(200);
      res.setHeader('Content-Type', t.contentType);
      res.setHeader('Content-Disposition', `attachment; filename="${filename}.${t.ext}"`);
      res.setHeader('Cache-Control', 'no-store');
      await pipeline(result.stream, res);
    } catch (err) {
      if (abort.signal.aborted) return; // the client left; nothing to answer
      throw err;
    } finally {
      res.off('close', onClose);
    }
  }
}
