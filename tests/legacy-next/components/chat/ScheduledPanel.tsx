'use client';
// Scheduled messages of this thread (the user's own, pending): schedule one,
// see them, cancel one. Refreshed on the user's `scheduled-message-update`.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '@/lib/client/api';
import type { Scheduled } from '@/lib/client/types';
import { useChannel } from '@/lib/client/useChannel';

type Props = { threadId: string; tenantId: string; me: string; onError: (e: unknown) => void };

/** `datetime-local` value for a time `minutes` from now, in local time. */
function localIn(minutes: number): string {
  const d = new Date(Date.now() + minutes * 60_000);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

export function ScheduledPanel({ threadId, tenantId, me, onError }: Props) {
  const base = `/api/chat/user-threads/${encodeURIComponent(threadId)}/scheduled`;
  const [items, setItems] = useState<Scheduled[]>([]);
  const [body, setBody] = useState('');
  const [when, setWhen] = useState(() => localIn(60));

  const refresh = useCallback(() => {
    api<{ scheduledMessages: Scheduled[] }>(base).then((r) => setItems(r.scheduledMessages), onError);
  }, [base, onError]);
  useEffect(refresh, [refresh]);
  useChannel(`private-scheduled.${tenantId}.${me}`, { 'scheduled-message-update': refresh });

  const create = (e: FormEvent) => {
    e.preventDefault();
    const sendAt = new Date(when).toISOString();
    api<{ scheduledMessage: Scheduled }>(base, { method: 'POST', body: { body: body.trim(), sendAt } }).then((r) => {
      setItems((list) => [...list, r.scheduledMessage].sort((a, b) => Date.parse(a.sendAt) - Date.parse(b.sendAt)));
      setBody('');
    }, onError);
  };
  const cancel = (id: string) => {
    api(`${base}/${encodeURIComponent(id)}`, { method: 'DELETE' }).then(
      () => setItems((list) => list.filter((s) => s.id !== id)),
      onError,
    );
  };

  return (
    <details className="scheduled" data-testid="scheduled-panel" open>
      <summary>Scheduled messages ({items.length})</summary>
      <ul>
        {items.map((s) => (
          <li key={s.id} data-testid="scheduled-item" data-scheduled-id={s.id}>
            <span data-testid="scheduled-text">{s.body}</span>{' '}
            <time dateTime={s.sendAt}>{new Date(s.sendAt).toLocaleString()}</time>{' '}
            <button type="button" data-testid="scheduled-cancel" onClick={() => cancel(s.id)}>Cancel</button>
          </li>
        ))}
      </ul>
      <form onSubmit={create}>
        <input data-testid="scheduled-body" aria-label="Scheduled message" placeholder="Message to send later"
          value={body} maxLength={4000} onChange={(e) => setBody(e.target.value)} />
        <input data-testid="scheduled-at" aria-label="Send at" type="datetime-local" value={when}
          onChange={(e) => setWhen(e.target.value)} />
        <button type="submit" data-testid="scheduled-create" disabled={!body.trim() || !when}>Schedule</button>
      </form>
    </details>
  );
}
