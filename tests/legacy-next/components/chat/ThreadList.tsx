'use client';
// The user's conversations, newest activity first, with unread counts.
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { api, describe, loginOnUnauthorized } from '@/lib/client/api';
import type { Thread } from '@/lib/client/types';

export function ThreadList() {
  const [threads, setThreads] = useState<Thread[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<{ threads: Thread[] }>('/api/chat/user-threads').then(
      (r) => setThreads(r.threads),
      (e) => {
        loginOnUnauthorized(e);
        setError(describe(e));
      },
    );
  }, []);

  if (error) return <p className="error" role="alert" data-testid="error">{error}</p>;
  if (!threads) return <p className="loading">Loading conversations…</p>;
  if (threads.length === 0) return <p>No conversations yet.</p>;
  return (
    <ul className="threads" data-testid="threads">
      {threads.map((t) => (
        <li key={t.id}>
          <Link href={`/chat/${encodeURIComponent(t.id)}`} prefetch={false} data-testid="thread-link" data-thread-id={t.id}>
            <strong>{t.title ?? 'Conversation'}</strong>
            {t.unreadCount > 0 && <span className="badge" data-testid="unread">{t.unreadCount}</span>}
            <span className="preview">{t.lastMessage?.body ?? 'No messages yet'}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}
