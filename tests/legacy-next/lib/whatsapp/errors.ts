// The WhatsApp routes keep the legacy app's error shape, {"error": "<message>"}
// (the admin UI shows `error` as is), not the {error, reason} of the other
// domains. Same statuses and messages as src/handlers/whatsapp/error.rs.
import { NextResponse } from 'next/server';
import { ApiError } from '../errors';

export class WaError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

export const badRequest = (message: string) => new WaError(400, message);
export const notFound = (message: string) => new WaError(404, message);
export const conflict = (message: string) => new WaError(409, message);

export const SESSION_NOT_FOUND = 'Session not found or access denied';

export function waError(status: number, message: string): NextResponse {
  return NextResponse.json({ error: message }, { status });
}

export function waErrorResponse(e: unknown): Response {
  if (e instanceof WaError) return waError(e.status, e.message);
  // lib/identity.ts throws the shared ApiError; map it to the legacy messages.
  if (e instanceof ApiError && e.error === 'unauthorized') return waError(401, 'Unauthorized');
  if (e instanceof ApiError && e.error === 'forbidden') return waError(403, 'Forbidden');
  console.error('whatsapp handler failed', e);
  return waError(500, 'Internal server error');
}

/** Wrap a WhatsApp route handler so thrown errors become legacy error bodies. */
export function waHandle<A extends unknown[]>(fn: (...args: A) => Promise<Response>) {
  return async (...args: A): Promise<Response> => {
    try {
      return await fn(...args);
    } catch (e) {
      return waErrorResponse(e);
    }
  };
}
