// The tenant's chat widget, as a site embeds it: /widget?tenant=<id>#token=<chat token>
// (add &transport=sse to follow the conversation over its SSE stream).
// The token rides in the fragment, which browsers never send to a server, so
// it is in no access log; the widget then keeps it in memory only.
import { ChatWidget } from '@/components/widget/ChatWidget';

export const metadata = { title: 'Chat with us' };

type Props = { searchParams: Promise<{ tenant?: string | string[]; transport?: string | string[] }> };

export default async function WidgetPage({ searchParams }: Props) {
  const { tenant, transport } = await searchParams;
  return (
    <main className="widget-page">
      <ChatWidget tenant={typeof tenant === 'string' ? tenant : ''} transport={transport === 'sse' ? 'sse' : 'pusher'} />
    </main>
  );
}
