// WhatsApp events: the data, then sessionId, tenantId and the emit time, on
// both WhatsApp channels of the session in one trigger. Emitted after commit,
// in order; never on a dry run.
import { broadcastTo, whatsappChannels } from '../pusher';

export type WaEvent = { event: string; data: Record<string, unknown> };

export async function emit(
  dryRun: boolean,
  session: { sessionId: string; tenantId: string },
  events: WaEvent[],
): Promise<void> {
  for (const { event, data } of events) {
    // Kept legacy quirk: a `timestamp` in the data keeps its position but
    // takes the emit time.
    const payload = { ...data, sessionId: session.sessionId, tenantId: session.tenantId, timestamp: Date.now() };
    await broadcastTo(dryRun, whatsappChannels(session.sessionId), event, payload);
  }
}
