'use client';
// Sessions on the left (create, pick one); the picked one's status, QR and
// inbox on the right, live over its private channel.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { describe, loginOnUnauthorized } from '@/lib/client/api';
import { useChannel } from '@/lib/client/useChannel';
import { wa, type WaMessage, type WaSession } from '@/lib/client/whatsapp';
import { ErrorBanner } from '@/components/chat/ErrorBanner';
import { Inbox } from './Inbox';
import { SessionStatus } from './SessionStatus';

export function WhatsAppConsole() {
  const [sessions, setSessions] = useState<WaSession[]>([]);
  const [picked, setPicked] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  // Live facts for the picked session, handed to its panels.
  const [live, setLive] = useState<{ status?: string; qr?: string; message?: WaMessage; contacts: number }>({ contacts: 0 });
  const fail = useCallback((e: unknown) => {
    loginOnUnauthorized(e);
    setError(describe(e));
  }, []);

  const refresh = useCallback(() => {
    wa.sessions().then((r) => {
      setSessions(r.sessions);
      setPicked((p) => p ?? r.sessions[0]?.sessionId ?? null);
    }, fail);
  }, [fail]);
  useEffect(refresh, [refresh]);
  useEffect(() => setLive({ contacts: 0 }), [picked]);

  const state = useChannel(picked ? `private-whatsapp.${picked}` : null, {
    'connection.update': (e: { status: string }) => {
      setLive((l) => ({ ...l, status: e.status, qr: undefined }));
      refresh(); // phone number, error, stats
    },
    'qr.code': (e: { qr: string }) => setLive((l) => ({ ...l, status: 'qr_required', qr: e.qr })),
    'message.received': (e: WaMessage) => setLive((l) => ({ ...l, message: e })),
    'message.sent': (e: WaMessage) => setLive((l) => ({ ...l, message: e })),
    'contact.created': () => setLive((l) => ({ ...l, contacts: l.contacts + 1 })),
    'contact.updated': () => setLive((l) => ({ ...l, contacts: l.contacts + 1 })),
  });

  const create = (e: FormEvent) => {
    e.preventDefault();
    wa.create(name.trim()).then((r) => {
      setName('');
      setPicked(r.session.sessionId);
      refresh();
    }, fail);
  };
  const session = sessions.find((s) => s.sessionId === picked);

  return (
    <div className="wa" data-testid="whatsapp" data-realtime={state}>
      <ErrorBanner message={error} onClose={() => setError(null)} />
      <aside className="wa-sessions">
        <ul>
          {sessions.map((s) => (
            <li key={s.sessionId}>
              <button type="button" data-testid="wa-session" data-session-id={s.sessionId} aria-pressed={s.sessionId === picked}
                onClick={() => setPicked(s.sessionId)}>
                {s.name} <small>{s.phoneNumber ?? s.sessionId}</small>
              </button>
            </li>
          ))}
        </ul>
        <form onSubmit={create}>
          <input data-testid="wa-new-name" aria-label="Session name" placeholder="New session name" value={name}
            onChange={(e) => setName(e.target.value)} />
          <button type="submit" disabled={!name.trim()}>Add session</button>
        </form>
      </aside>
      {session && (
        <section className="wa-main">
          <SessionStatus session={session} live={live} onChanged={refresh} onError={fail} />
          <Inbox sessionId={session.sessionId} live={live} onError={fail} />
        </section>
      )}
    </div>
  );
}
