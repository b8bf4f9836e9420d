'use client';
// A session's connection: status (live), its QR code while one is pending,
// connect / disconnect / delete.
import { useEffect, useState } from 'react';
import { statusLabel, wa, type WaSession, type WaStatus } from '@/lib/client/whatsapp';

type Props = {
  session: WaSession;
  live: { status?: string; qr?: string };
  onChanged: () => void;
  onError: (e: unknown) => void;
};

export function SessionStatus({ session, live, onChanged, onError }: Props) {
  const sid = session.sessionId;
  const [status, setStatus] = useState<WaStatus | null>(null);

  useEffect(() => {
    wa.status(sid).then(setStatus, onError);
  }, [sid, onError, session.status]);

  const shown = live.status ?? status?.status ?? session.status;
  const qr = live.qr ?? (live.status ? undefined : status?.qr);
  const act = (call: Promise<unknown>) => call.then(onChanged, onError);

  return (
    <div className="wa-status" data-testid="wa-status" data-status={shown}>
      <h2>{session.name}</h2>
      <p>Status: <strong>{statusLabel(shown)}</strong>{session.errorMessage && <span className="error"> ({session.errorMessage})</span>}</p>
      {qr && (
        <figure data-testid="wa-qr">
          <pre className="qr">{qr}</pre>
          <figcaption>Open WhatsApp on your phone → Linked devices → scan this code.</figcaption>
        </figure>
      )}
      <p className="wa-stats">{session.stats.contacts} contacts · {session.stats.messages} messages</p>
      <button type="button" data-testid="wa-connect" onClick={() => act(wa.connect(sid))}>Connect</button>{' '}
      <button type="button" data-testid="wa-disconnect" onClick={() => act(wa.disconnect(sid))}>Disconnect</button>{' '}
      <button type="button" onClick={() => confirm(`Delete ${session.name}?`) && act(wa.remove(sid))}>Delete</button>
    </div>
  );
}
