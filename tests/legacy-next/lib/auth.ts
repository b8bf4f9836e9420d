// NextAuth v4 options: credentials provider against the "User" table, JWT sessions.
import { createHash } from 'crypto';
import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { pool } from './db';

export const authOptions: NextAuthOptions = {
  session: { strategy: 'jwt' },
  secret: process.env.NEXTAUTH_SECRET,
  providers: [
    CredentialsProvider({
      name: 'credentials',
      credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
      async authorize(credentials) {
        if (!credentials?.email || !credentials.password) return null;
        const { rows } = await pool.query(
          'SELECT "id", "email", "name", "passwordHash" FROM "User" WHERE "email" = $1',
          [credentials.email],
        );
        const u = rows[0];
        const hash = 'sha256:' + createHash('sha256').update(credentials.password).digest('hex');
        if (!u || u.passwordHash !== hash) return null;
        return { id: u.id, email: u.email, name: u.name };
      },
    }),
  ],
  callbacks: {
    async jwt({ token, user }) {
      if (user) token.sub = user.id;
      return token;
    },
    async session({ session, token }) {
      if (session.user) (session.user as { id?: string }).id = token.sub;
      return session;
    },
  },
};
