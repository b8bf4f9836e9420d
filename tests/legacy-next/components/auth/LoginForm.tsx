'use client';
// Email + password through NextAuth's credentials provider; on success to
// the page the user came from (same origin only), else /chat.
import { useRouter } from 'next/navigation';
import { signIn } from 'next-auth/react';
import { useState, type FormEvent } from 'react';

function safeTarget(callbackUrl: string | undefined): string {
  return callbackUrl && callbackUrl.startsWith('/') && !callbackUrl.startsWith('//') ? callbackUrl : '/chat';
}

export function LoginForm({ callbackUrl }: { callbackUrl?: string }) {
  const router = useRouter();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await signIn('credentials', { email, password, redirect: false });
      if (!res || res.error || !res.ok) {
        setError('Wrong email or password.');
        return;
      }
      router.replace(safeTarget(callbackUrl));
    } catch {
      setError('Could not reach the server: try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="login" onSubmit={submit} data-testid="login-form">
      <label>Email <input data-testid="login-email" type="email" autoComplete="username" required
        value={email} onChange={(e) => setEmail(e.target.value)} /></label>
      <label>Password <input data-testid="login-password" type="password" autoComplete="current-password" required
        value={password} onChange={(e) => setPassword(e.target.value)} /></label>
      {error && <p className="error" role="alert" data-testid="login-error">{error}</p>}
      <button type="submit" data-testid="login-submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  );
}
