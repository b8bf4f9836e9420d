// The contract's one error shape: {"error": <class>, "reason": <code>}.
import { NextResponse } from 'next/server';

const STATUS: Record<string, number> = {
  unauthorized: 401,
  forbidden: 403,
  validation_failed: 400,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

export class ApiError extends Error {
  constructor(public error: keyof typeof STATUS, public reason: string) {
    super(`${error}: ${reason}`);
  }
}

export const unauthorized = () => new ApiError('unauthorized', 'missing_identity');
export const forbidden = (reason: string) => new ApiError('forbidden', reason);
export const invalid = (reason: string) => new ApiError('validation_failed', reason);
export const notFound = (reason: string) => new ApiError('not_found', reason);
export const conflict = (reason: string) => new ApiError('conflict', reason);

export function errorResponse(e: unknown): NextResponse {
  if (e instanceof ApiError) {
    return NextResponse.json({ error: e.error, reason: e.reason }, { status: STATUS[e.error] });
  }
  console.error('handler failed', e);
  return NextResponse.json({ error: 'internal', reason: 'internal_error' }, { status: 500 });
}

/** Wrap a route handler so thrown ApiErrors become contract responses. */
export function handle<A extends unknown[]>(fn: (...args: A) => Promise<Response>) {
  return async (...args: A): Promise<Response> => {
    try {
      return await fn(...args);
    } catch (e) {
      return errorResponse(e);
    }
  };
}
