import { Logo } from './ui/Logo';

interface Props {
  isAdmin: boolean;
  onSwitchWorkspace?: () => void;
  onSignOut: () => void;
}

export function TopBar({ isAdmin, onSwitchWorkspace, onSignOut }: Props) {
  return (
    <header className="topbar">
      <div className="topbar-inner">
        <a className="brand" href="/" aria-label="Herald home">
          <Logo />
          <span>Herald</span>
        </a>
        <span className="topbar-role">{isAdmin ? 'Admin' : 'Workspace key'}</span>
        <nav className="topbar-actions" aria-label="Account">
          {onSwitchWorkspace && (
            <button type="button" className="btn btn-ghost" onClick={onSwitchWorkspace}>
              All workspaces
            </button>
          )}
          <button type="button" className="btn btn-ghost" onClick={onSignOut}>
            Sign out
          </button>
        </nav>
      </div>
    </header>
  );
}
