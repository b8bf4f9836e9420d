'use client';
// The chatbot widget: the tenant's greeting and colour, the visitor's
// conversation, live over the conversation's private channel, or over its SSE
// stream (`transport="sse"`) where a Pusher socket cannot be held.
import { useCallback, useEffect, useState } from 'react';
import { api, describe } from '@/lib/client/api';
import type { ChatbotConfig, ChatbotMessage } from '@/lib/client/types';
import { useChannel } from '@/lib/client/useChannel';
import { useConversation } from '@/lib/client/useConversation';
import { useStream } from '@/lib/client/useStream';
import { useWidgetToken } from '@/lib/client/useWidgetToken';
import { Composer } from '@/components/chat/Composer';

export function ChatWidget({ tenant, transport }: { tenant: string; transport: 'pusher' | 'sse' }) {
  const token = useWidgetToken();
  const [config, setConfig] = useState<ChatbotConfig | null>(null);
  const [error, setError] = useState<string | null>(null);
  const conv = useConversation(tenant, token);
  const fail = useCallback((e: unknown) => setError(describe(e)), []);
  const { open } = conv;

  useEffect(() => {
    if (!token) return;
    api<ChatbotConfig>('/api/tenant-chatbot/config', { headers: { Authorization: `Bearer ${token}` } })
      .then((c) => {
        if (c.tenantId !== tenant) throw new Error('tenant');
        setConfig(c);
        if (c.enabled) return open();
      })
      .catch((e) => setError(e instanceof Error && e.message === 'tenant' ? 'This chat is not set up for this site.' : describe(e)));
  }, [token, tenant, open]);

  const handlers = { 'message.created': (e: { message: ChatbotMessage }) => conv.receive(e) };
  const sse = transport === 'sse';
  const viaPusher = useChannel(!sse && conv.id ? `private-chatbot-${conv.id}` : null, handlers, token ?? undefined);
  const streamUrl = sse && conv.id && token
    ? `/api/tenant-chatbot/conversations/${encodeURIComponent(conv.id)}/stream?token=${encodeURIComponent(token)}`
    : null;
  const viaStream = useStream(streamUrl, handlers);
  const live = sse ? viaStream : viaPusher;

  if (token === undefined) return null;
  if (!tenant || !token) return <p className="error" data-testid="widget-error">Open this page as /widget?tenant=&lt;id&gt;#token=&lt;chat token&gt;.</p>;
  return (
    <section className="widget" data-testid="widget" data-realtime={live} data-transport={transport} style={{ borderColor: config?.primaryColor ?? undefined }}>
      <header style={{ background: config?.primaryColor ?? undefined }}>{config?.name ?? 'Chat'}</header>
      {error && <p className="error" role="alert" data-testid="error">{error}</p>}
      {config && !config.enabled && <p data-testid="widget-disabled">Chat is not available right now.</p>}
      {config?.greeting && <p className="greeting">{config.greeting}</p>}
      <div className="messages" data-testid="messages">
        {conv.messages.map((m) => (
          <div key={m.id} className={m.role === 'visitor' ? 'message mine' : 'message'} data-testid="message" data-role={m.role}>
            <span className="body" data-testid="message-body">{m.body}</span>
          </div>
        ))}
      </div>
      {conv.id && <Composer onSend={(body) => conv.send(body).catch(fail)} onTyping={() => {}} />}
    </section>
  );
}
