'use client';
// One message: author, text, time, and "Seen" on ours once the other side read it.
import type { Message } from '@/lib/client/types';

type Props = { message: Message; mine: boolean; author: string; seen: boolean };

export function MessageItem({ message, mine, author, seen }: Props) {
  const time = new Date(message.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return (
    <div
      className={mine ? 'message mine' : 'message'}
      data-testid="message"
      data-message-id={message.id}
      data-sender={message.senderId}
    >
      {!mine && <strong className="author">{author}</strong>}
      <span className="body" data-testid="message-body">{message.body}</span>
      <small className="meta">
        {time}
        {mine && seen && <span className="seen" data-testid="receipt"> · Seen</span>}
      </small>
    </div>
  );
}
