import Link from 'next/link';

export default function Home() {
  return (
    <main className="narrow">
      <h1>legacy-next</h1>
      <p>The app cutover migrates away from.</p>
      <ul>
        <li><Link href="/chat">Conversations</Link></li>
        <li><Link href="/whatsapp">WhatsApp</Link></li>
        <li><Link href="/login">Sign in</Link></li>
      </ul>
    </main>
  );
}
