'use client';
// A session's inbox: contacts (unread counts), the picked chat's messages
// (marked read when opened), new ones live, and a reply box.
import { useCallback, useEffect, useState } from 'react';
import { wa, type WaContact, type WaMessage } from '@/lib/client/whatsapp';
import { Composer } from '@/components/chat/Composer';
import { WaMessageItem } from './WaMessageItem';

type Props = { sessionId: string; live: { message?: WaMessage; contacts: number }; onError: (e: unknown) => void };

export function Inbox({ sessionId, live, onError }: Props) {
  const [contacts, setContacts] = useState<WaContact[]>([]);
  const [jid, setJid] = useState<string | null>(null);
  const [messages, setMessages] = useState<WaMessage[]>([]);
  const [queued, setQueued] = useState<string[]>([]);

  useEffect(() => {
    wa.contacts(sessionId).then((r) => setContacts(r.contacts), onError);
  }, [sessionId, live.contacts, onError]);
  useEffect(() => {
    setJid(null);
    setMessages([]);
  }, [sessionId]);

  const open = useCallback((to: string) => {
    setJid(to);
    setQueued([]);
    wa.messages(sessionId, to).then((r) => setMessages(r.messages), onError);
    wa.markRead(sessionId, to).then(
      () => setContacts((list) => list.map((c) => (c.jid === to ? { ...c, unreadCount: 0 } : c))),
      onError,
    );
  }, [sessionId, onError]);

  useEffect(() => {
    const m = live.message;
    if (!m || m.remoteJid !== jid) return;
    setMessages((list) => (list.some((x) => x.id === m.id) ? list : [...list, m]));
  }, [live.message, jid]);

  const send = (content: string) => {
    if (!jid) return;
    wa.send(sessionId, jid, content).then(() => setQueued((q) => [...q, content]), onError);
  };

  return (
    <div className="wa-inbox">
      <ul className="wa-contacts" data-testid="wa-contacts">
        {contacts.map((c) => (
          <li key={c.id}>
            <button type="button" data-testid="wa-contact" aria-pressed={c.jid === jid} onClick={() => open(c.jid)}>
              {c.name ?? c.phoneNumber ?? c.jid}
              {c.unreadCount > 0 && <span className="badge">{c.unreadCount}</span>}
            </button>
          </li>
        ))}
        {contacts.length === 0 && <li className="muted">No chats yet.</li>}
      </ul>
      {jid && (
        <div className="wa-chat">
          <div className="messages" data-testid="wa-messages">
            {messages.map((m) => <WaMessageItem key={m.id} message={m} />)}
            {queued.map((text, i) => (
              <div key={i} className="message mine pending" data-testid="wa-queued">{text} <small>Queued</small></div>
            ))}
          </div>
          <Composer onSend={send} onTyping={() => {}} />
        </div>
      )}
    </div>
  );
}
