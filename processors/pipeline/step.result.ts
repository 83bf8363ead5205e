/**
 * What a pipeline step returns for one message (STYLE: PostHog's ingestion steps). Steps never throw
 * for a bad message and never hold a producer: they say what should happen, and the consumer loop
 * (processor.service.ts) alone turns results into DLQ writes, side-table rows, metrics and commits.
 */
export type DlqReason = 'undecodable' | 'invalid';
export type DropReason = 'duplicate' | 'replayed';
export type RedirectOutput = 'late_events';

export type StepResult<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'dlq'; reason: DlqReason; detail: string }
  | { kind: 'drop'; reason: DropReason }
  | { kind: 'redirect'; output: RedirectOutput; watermark: number };

export const ok = <T>(value: T): StepResult<T> => ({ kind: 'ok', value });
export const dlq = (reason: DlqReason, detail: string): StepResult<never> => ({ kind: 'dlq', reason, detail });
export const drop = (reason: DropReason): StepResult<never> => ({ kind: 'drop', reason });
export const redirect = (output: RedirectOutput, watermark: number): StepResult<never> => ({ kind: 'redirect', output, watermark });
