// The demo's "Acme Loyalty dashboard": a platform's own page with the demo workspace's
// Webhooks page from Herald inside it (the portal, CONTRACT section 6), as the README's
// "Embed the Webhooks page in your dashboard" builds it. Each page view asks Herald for a new
// link with the admin key (in-process here) and frames it; the frame tells its height.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Herald } from '../herald.js';

/** Listens on 127.0.0.1:`port` (0: any free port); the page is at `/`. Herald is given once it runs. */
export async function startDemoHost(port: number): Promise<{ server: Server; origin: string; serve(herald: Herald, workspaceId: string): void }> {
  let target: { herald: Herald; workspaceId: string } | null = null;
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/' && !req.url?.startsWith('/?'))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (!target) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('Herald is starting; reload in a moment');
      return;
    }
    const view = new URL(req.url, 'http://x').searchParams.get('access') === 'view';
    link(target.herald, target.workspaceId, view).then(
      (src) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page(src, view)),
      (err) => res.writeHead(502, { 'content-type': 'text/plain' }).end(`The Webhooks page is not available: ${(err as Error).message}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, origin, serve: (herald, workspaceId) => void (target = { herald, workspaceId }) };
}

async function link(herald: Herald, workspaceId: string, view: boolean): Promise<string> {
  const res = await herald.app!.inject({
    method: 'POST', url: `/api/v1/workspaces/${workspaceId}/portal-sessions`,
    headers: { authorization: `Bearer ${herald.adminKey}` },
    payload: { access: view ? 'view' : 'manage', expires_in: 3600, theme: { name: 'Acme Loyalty', primary_color: '#0f766e' } },
  });
  if (res.statusCode !== 201) throw new Error(`Herald answered ${res.statusCode}: ${res.body}`);
  return (res.json() as { url: string }).url;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(src: string, view: boolean): string {
  const nav = ['Overview', 'Customers', 'Rewards', 'Coupons', 'Webhooks']
    .map((n) => `<a href="#" style="display:block;padding:.5rem .75rem;border-radius:8px;color:${n === 'Webhooks' ? '#fff;background:#0f766e' : '#cbd5e1'};text-decoration:none">${n}</a>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Webhooks · Acme Loyalty</title></head>
<body style="margin:0;font-family:system-ui,sans-serif;background:#f1f5f9;display:flex;min-height:100vh">
<nav style="width:200px;flex:none;background:#0b1f2a;padding:1rem;box-sizing:border-box">
  <div style="color:#fff;font-weight:700;font-size:1.1rem;margin-bottom:1.25rem">Acme Loyalty</div>${nav}
  <p style="color:#94a3b8;font-size:.8rem;margin-top:2rem">Signed in as Acme Coffee · <a style="color:#94a3b8" href="${view ? '/' : '/?access=view'}">${view ? 'as an editor' : 'as a viewer'}</a></p>
</nav>
<main style="flex:1;min-width:0;padding:1rem">
  <iframe id="webhooks" title="Webhooks" src="${escapeHtml(src)}" style="display:block;width:100%;height:640px;border:0;border-radius:12px;background:#fff"></iframe>
</main>
<script>
  const frame = document.getElementById('webhooks');
  const heraldOrigin = new URL(frame.src).origin;
  addEventListener('message', (event) => {
    if (event.origin !== heraldOrigin || event.data?.type !== 'herald:resize') return;
    frame.style.height = event.data.height + 'px';
  });
</script>
</body></html>`;
}
