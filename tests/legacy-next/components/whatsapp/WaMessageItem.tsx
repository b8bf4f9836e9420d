'use client';
// One WhatsApp message: text, delivery status, and its media (image, video,
// audio inline; other files as a download link) from the media route.
import type { WaMessage } from '@/lib/client/whatsapp';

function Media({ m }: { m: WaMessage }) {
  const src = `/api/whatsapp/media/${encodeURIComponent(m.id)}`;
  const type = m.mediaMimeType ?? '';
  if (type.startsWith('image/')) return <img className="wa-media" src={src} alt={m.content ?? 'image'} loading="lazy" />;
  if (type.startsWith('video/')) return <video className="wa-media" src={src} controls preload="metadata" />;
  if (type.startsWith('audio/')) return <audio src={src} controls preload="metadata" />;
  return <a href={src} target="_blank" rel="noreferrer">Download ({Math.ceil((m.mediaSize ?? 0) / 1024)} KB)</a>;
}

export function WaMessageItem({ message: m }: { message: WaMessage }) {
  return (
    <div className={m.fromMe ? 'message mine' : 'message'} data-testid="wa-message" data-status={m.status}>
      {m.mediaMimeType && <Media m={m} />}
      {m.content && <span className="body">{m.content}</span>}
      <small className="meta">
        {new Date(m.timestamp).toLocaleString()}
        {m.fromMe && ` · ${m.status.toLowerCase()}`}
      </small>
    </div>
  );
}
