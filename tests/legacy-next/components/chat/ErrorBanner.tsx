'use client';
// A dismissible error line.
export function ErrorBanner({ message, onClose }: { message: string | null; onClose: () => void }) {
  if (!message) return null;
  return (
    <p className="error" role="alert" data-testid="error">
      {message} <button type="button" onClick={onClose}>Dismiss</button>
    </p>
  );
}
