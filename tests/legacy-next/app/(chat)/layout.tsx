// Signed-in area: no session → the login page.
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { getServerSession } from 'next-auth';
import { SignOutButton } from '@/components/auth/SignOutButton';
import { authOptions } from '@/lib/auth';

export default async function ChatLayout({ children }: { children: React.ReactNode }) {
  const session = await getServerSession(authOptions);
  if (!session?.user) redirect('/login?callbackUrl=/chat');
  return (
    <div className="app">
      <nav className="top">
        <Link href="/chat" prefetch={false}>Conversations</Link>
        <span data-testid="signed-in-as">{session.user.email}</span>
        <SignOutButton />
      </nav>
      {children}
    </div>
  );
}
