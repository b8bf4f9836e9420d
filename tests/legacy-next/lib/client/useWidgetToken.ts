'use client';
// The widget's bearer token from the URL fragment (#token=…), removed from the
// address bar once read so it is not copied or bookmarked with the page.
import { useEffect, useState } from 'react';

export function useWidgetToken(): string | null | undefined {
  const [token, setToken] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    const found = new URLSearchParams(window.location.hash.slice(1)).get('token');
    if (found) window.history.replaceState(null, '', window.location.pathname + window.location.search);
    setToken(found);
  }, []);
  return token;
}
