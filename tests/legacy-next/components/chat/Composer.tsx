'use client';
// The message box: Enter or the button sends; every keystroke counts as typing.
import { useState, type FormEvent } from 'react';

export function Composer({ onSend, onTyping }: { onSend: (body: string) => void; onTyping: () => void }) {
  const [text, setText] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    onSend(body);
    setText('');
  };
  return (
    <form className="composer" onSubmit={submit}>
      <input
        data-testid="composer-input"
        aria-label="Message"
        placeholder="Write a message"
        value={text}
        maxLength={4000}
        onChange={(e) => {
          setText(e.target.value);
          onTyping();
        }}
      />
      <button type="submit" data-testid="composer-send" disabled={!text.trim()}>Send</button>
    </form>
  );
}
