// The session: the key is kept in session storage (this tab only), never in a URL.
const KEY = 'herald.key';
const WORKSPACE = 'herald.workspace';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  workspace: () => sessionStorage.getItem(WORKSPACE),
  signIn(key: string) {
    sessionStorage.setItem(KEY, key);
  },
  setWorkspace(id: string | null) {
    if (id) sessionStorage.setItem(WORKSPACE, id);
    else sessionStorage.removeItem(WORKSPACE);
  },
  signOut() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(WORKSPACE);
  },
};
