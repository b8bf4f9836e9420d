// The pusher SDK client (Soketi HTTP API) and the signing helpers. Broadcast
// failures are logged, not returned: the state change is already committed.
import Pusher from 'pusher';
import { recordStreamEvent } from '@/lib/streams';

const globalForPusher = globalThis as unknown as { legacyPusher?: Pusher };

export const pusher: Pusher =
  globalForPusher.legacyPusher ??
  (globalForPusher.legacyPusher = new Pusher({
    appId: process.env.PUSHER_APP_ID ?? 'app-1',
    key: process.env.PUSHER_KEY ?? 'app-key',
    secret: process.env.PUSHER_SECRET ?? 'app-secret',
    host: process.env.PUSHER_HOST ?? '127.0.0.1',
    port: process.env.PUSHER_PORT ?? '6001',
    useTLS: false,
  }));

/** Trigger one event unless this is a dry run; Soketi reports auth failures with 200 + {"code":401}. */
export async function broadcast(dryRun: boolean, channel: string, event: string, payload: unknown): Promise<void> {
  await broadcastTo(dryRun, [channel], event, payload);
}

/** One trigger of one event on several channels (at most 100, Pusher's limit). */
export async function broadcastTo(dryRun: boolean, channels: string[], event: string, payload: unknown): Promise<void> {
  if (dryRun) return;
  const channel = channels.length === 1 ? channels[0] : channels;
  // The SSE streams get the same JSON text as Soketi (the SDK sends JSON.stringify(payload)).
  await recordStreamEvent(channels, event, JSON.stringify(payload));
  try {
    const res = await pusher.trigger(channels, event, payload);
    const text = await res.text();
    let code: unknown;
    try {
      code = (JSON.parse(text) as { code?: unknown }).code;
    } catch {
      code = undefined;
    }
    if (typeof code === 'number' && code >= 400) console.warn('broadcast rejected', { channel, event, code });
  } catch (e) {
    console.warn('broadcast failed', { channel, event, error: String(e) });
  }
}

/** The legacy channels and events (the same names as src/handlers/realtime/channels.rs). */
export const threadChannel = (tenantId: string, threadKey: string) => `presence-tenant.${tenantId}.thread.${threadKey}`;
export const onlineChannel = (tenantId: string) => `presence-tenant.${tenantId}.online`;
export const scheduledChannel = (tenantId: string, senderId: string) => `private-scheduled.${tenantId}.${senderId}`;
export const USER_MESSAGE = 'tenant-user-message';
export const USER_MESSAGE_READ = 'tenant-user-message-read';
export const USER_MESSAGE_DELIVERED = 'tenant-user-message-delivered';

/**
 * The legacy threadKey: a 1:1 thread (two participants) is the two user ids,
 * trimmed, sorted with localeCompare, joined by `--`; any other thread is
 * `group-{threadId}`.
 */
export function threadKey(threadId: string, participants: string[]): string {
  if (participants.length !== 2) return `group-${threadId}`;
  return participants.map((p) => p.trim()).sort((a, b) => a.localeCompare(b)).join('--');
}

/** The other participant of a 1:1 thread; null in a group. */
export function recipient(participants: string[], senderId: string): string | null {
  if (participants.length !== 2) return null;
  if (participants[0] === senderId) return participants[1];
  if (participants[1] === senderId) return participants[0];
  return null;
}
export const chatbotChannel = (conversationId: string) => `private-chatbot-${conversationId}`;

/** The legacy public channel (kept for the current UI) and the members-only private one. */
export const whatsappChannels = (sessionId: string) => [`whatsapp.${sessionId}`, `private-whatsapp.${sessionId}`];
