import { useCallback, useState } from 'react';

/**
 * The selected tab, kept in the address (`?tab=log`) so that a reload, or a link, opens the same
 * tab. A query parameter and not the fragment: the fragment may carry other things (a portal link's token).
 * The address is replaced, not pushed: switching tabs does not fill the Back button's history.
 */
export function useUrlTab(ids: readonly string[], fallback: string): [string, (id: string) => void] {
  const [tab, setTab] = useState(() => {
    const asked = new URLSearchParams(window.location.search).get('tab');
    return asked && ids.includes(asked) ? asked : fallback;
  });
  const select = useCallback((id: string) => {
    setTab(id);
    const url = new URL(window.location.href);
    url.searchParams.set('tab', id);
    window.history.replaceState(window.history.state, '', url);
  }, []);
  return [tab, select];
}
