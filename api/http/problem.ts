import type { Response } from 'express';

/**
 * RFC 7807 problem details, the one error shape of the REST API. Everything that is not a 2xx answer
 * is a `ProblemError` by the time it reaches the error middleware (http/error.middleware.ts), which is
 * the only place that picks an HTTP status (STYLE habit 12).
 */
export interface InvalidParam {
  /** The field's name as the client sent it (`from`, `channelId`, `body.name`). */
  name: string;
  in: 'path' | 'query' | 'header' | 'body';
  reason: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem types are URNs: stable identifiers a client can switch on, no documentation host needed. */
export const problemType = (slug: string) => `urn:spacehub:problem:${slug}`;

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
  }

  toProblem(instance?: string): Problem {
    return { type: problemType(this.slug), title: this.title, status: this.status, ...(this.detail ? { detail: this.detail } : {}), ...(instance ? { instance } : {}), ...this.extensions };
  }
}

export const validationProblem = (params: InvalidParam[]) =>
  new ProblemError(400, 'validation-error', 'Your request parameters did not validate', params.map((p) => `${p.name}: ${p.reason}`).join('; '), { invalidParams: params });

export const unauthorized = (detail: string) =>
  new ProblemError(401, 'unauthorized', 'Authentication required', detail, {}, { 'WWW-Authenticate': 'Bearer realm="spacehub"' });

export const forbidden = (detail: string) => new ProblemError(403, 'forbidden', 'Not allowed', detail);

export const notFound = (detail: string, slug = 'not-found') => new ProblemError(404, slug, 'Not found', detail);

export function sendProblem(res: Response, problem: Problem, headers: Record<string, string> = {}): void {
  res.status(problem.status).set(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}
