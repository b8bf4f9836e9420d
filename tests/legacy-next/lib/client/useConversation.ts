'use client';
// The visitor's chatbot conversation: the one started in this tab (kept in
// sessionStorage per tenant) or a new one; its messages, sends with a client
// message id, and messages arriving live (`message.created`).
import { useCallback, useState } from 'react';
import { ApiFailure, api } from './api';
import { newClientMessageId } from './ids';
import type { ChatbotMessage } from './types';

const storageKey = (tenant: string) => `chat-widget:${tenant}:conversation`;

function merge(list: ChatbotMessage[], incoming: ChatbotMessage[]): ChatbotMessage[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.id < b.id ? -1 : 1));
}

export function useConversation(tenant: string, token: string | null | undefined) {
  const headers = token ? { Authorization: `Bearer ${token}` } : undefined;
  const [id, setId] = useState<string | null>(null);
  const [messages, setMessages] = useState<ChatbotMessage[]>([]);
  const base = id ? `/api/tenant-chatbot/conversations/${encodeURIComponent(id)}/messages` : null;

  const open = useCallback(async () => {
    if (!token) return;
    const auth = { Authorization: `Bearer ${token}` };
    const saved = sessionStorage.getItem(storageKey(tenant));
    if (saved) {
      try {
        const page = await api<{ messages: ChatbotMessage[] }>(
          `/api/tenant-chatbot/conversations/${encodeURIComponent(saved)}/messages?limit=50`, { headers: auth });
        setMessages(page.messages);
        return setId(saved);
      } catch (e) {
        if (!(e instanceof ApiFailure && e.status === 404)) throw e;
      }
    }
    const { conversation } = await api<{ conversation: { id: string } }>('/api/tenant-chatbot/conversations', {
      method: 'POST', body: {}, headers: auth,
    });
    sessionStorage.setItem(storageKey(tenant), conversation.id);
    setId(conversation.id);
  }, [tenant, token]);

  const send = useCallback(async (body: string) => {
    if (!base) return;
    const { message } = await api<{ message: ChatbotMessage }>(base, {
      method: 'POST', body: { body, clientMessageId: newClientMessageId() }, headers,
    });
    setMessages((list) => merge(list, [message]));
  }, [base, headers]);

  const receive = useCallback((e: { message: ChatbotMessage }) => setMessages((list) => merge(list, [e.message])), []);

  return { id, messages, open, send, receive };
}
