// fetch() to the app's API routes: JSON in, JSON out, the contract's error
// body ({error, reason}, or the WhatsApp/realtime {error}) as an ApiFailure.
export class ApiFailure extends Error {
  constructor(public status: number, public reason: string) {
    super(`${status} ${reason}`);
  }
}

export type ApiInit = { method?: string; body?: unknown; headers?: Record<string, string> };

export async function api<T>(path: string, init: ApiInit = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...init.headers };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const reason = data?.reason ?? data?.error ?? `HTTP ${res.status}`;
    throw new ApiFailure(res.status, String(reason));
  }
  return data as T;
}

/** The message a person reads for a failed call. */
export function describe(e: unknown): string {
  if (e instanceof ApiFailure) return e.status === 401 ? 'Your session has ended: sign in again.' : `Request failed (${e.reason})`;
  return 'Network error: check your connection.';
}

/** On a 401 the session is gone: back to the login page, then here again. */
export function loginOnUnauthorized(e: unknown): void {
  if (e instanceof ApiFailure && e.status === 401) {
    window.location.assign(`/login?callbackUrl=${encodeURIComponent(window.location.pathname)}`);
  }
}
