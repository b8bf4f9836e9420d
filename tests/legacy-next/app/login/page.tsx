import { LoginForm } from '@/components/auth/LoginForm';

export const metadata = { title: 'Sign in' };

type Props = { searchParams: Promise<{ callbackUrl?: string | string[] }> };

export default async function LoginPage({ searchParams }: Props) {
  const { callbackUrl } = await searchParams;
  return (
    <main className="narrow">
      <h1>Sign in</h1>
      <LoginForm callbackUrl={typeof callbackUrl === 'string' ? callbackUrl : undefined} />
    </main>
  );
}
