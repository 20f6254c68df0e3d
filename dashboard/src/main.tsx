import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { Portal } from './portal/Portal';
import './styles.css';
import './compact.css';

// /portal is the Webhooks page inside a platform's own dashboard (src/api/routes/dashboard.ts
// serves it with the headers that let the platform frame it); everything else is Herald's own.
const portal = location.pathname === '/portal';
if (portal) document.documentElement.classList.add('portal');

createRoot(document.getElementById('root')!).render(<StrictMode>{portal ? <Portal /> : <App />}</StrictMode>);
