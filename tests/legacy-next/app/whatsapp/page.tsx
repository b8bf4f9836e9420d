// WhatsApp: sessions with live status and QR, the inbox, sending, media.
import { redirect } from 'next/navigation';
import { getServerSession } from 'next-auth';
import { WhatsAppConsole } from '@/components/whatsapp/WhatsAppConsole';
import { authOptions } from '@/lib/auth';

export const metadata = { title: 'WhatsApp' };

export default async function WhatsAppPage() {
  const session = await getServerSession(authOptions);
  if (!session?.user) redirect('/login?callbackUrl=/whatsapp');
  return (
    <main>
      <h1>WhatsApp</h1>
      <WhatsAppConsole />
    </main>
  );
}
