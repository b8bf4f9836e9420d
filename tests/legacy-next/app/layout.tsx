import './globals.css';

export const metadata = { title: { default: 'legacy-next', template: '%s · legacy-next' } };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
