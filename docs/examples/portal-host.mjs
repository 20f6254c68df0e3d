// Your platform's dashboard page with a business's Webhooks page from Herald inside it.
//   HERALD_URL=https://webhooks.example.com HERALD_ADMIN_KEY=hrd_admin_… WORKSPACE_ID=acme node portal-host.mjs
// Herald must let this page frame it: HERALD_FRAME_ANCESTORS=http://127.0.0.1:3000 (this page's origin).
// Node 18 or later, nothing to install.
import { createServer } from 'node:http';

const HERALD_URL = process.env.HERALD_URL ?? 'http://127.0.0.1:8080';
const ADMIN_KEY = process.env.HERALD_ADMIN_KEY; // stays on your server: the browser never sees it
const HOST = process.env.HOST ?? '127.0.0.1';
const PORT = Number(process.env.PORT ?? 3000);

// Who is signed in to your dashboard, and which Herald workspace is their business.
// Your own sign-in decides this; here it is one business from the environment.
function currentBusiness(req) {
  return { workspaceId: process.env.WORKSPACE_ID ?? 'demo', name: 'Acme Coffee', canEdit: true };
}

// A new link for each page view: it opens once, and the page it opens stays signed in for an hour.
async function webhooksPageLink(business) {
  const res = await fetch(`${HERALD_URL}/api/v1/workspaces/${encodeURIComponent(business.workspaceId)}/portal-sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      access: business.canEdit ? 'manage' : 'view',
      expires_in: 3600,
      theme: { name: business.name, primary_color: '#0f766e' },
    }),
  });
  if (!res.ok) throw new Error(`Herald answered ${res.status}: ${await res.text()}`);
  return (await res.json()).url;
}

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (src) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Webhooks · Your dashboard</title></head>
<body style="margin: 0; font-family: system-ui, sans-serif; background: #f3f4f6">
  <header style="padding: 1rem 1.5rem; background: #111827; color: #fff; font-weight: 600">Your dashboard</header>
  <main style="max-width: 1200px; margin: 0 auto; padding: 1rem">
    <iframe id="webhooks" title="Webhooks" src="${escapeHtml(src)}" style="display: block; width: 100%; height: 640px; border: 0; border-radius: 12px; background: #fff"></iframe>
  </main>
  <script>
    // The page tells its height whenever it changes: size the frame to it, so there is no inner scrollbar.
    const frame = document.getElementById('webhooks');
    const heraldOrigin = new URL(frame.src).origin;
    window.addEventListener('message', (event) => {
      if (event.origin !== heraldOrigin || event.data?.type !== 'herald:resize') return;
      frame.style.height = event.data.height + 'px';
    });
  </script>
</body>
</html>`;

createServer(async (req, res) => {
  if (req.method !== 'GET' || (req.url !== '/' && req.url !== '/webhooks')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  try {
    const src = await webhooksPageLink(currentBusiness(req));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page(src));
  } catch (err) {
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`The Webhooks page is not available: ${err.message}`);
  }
}).listen(PORT, HOST, function () {
  console.log(`Your dashboard: http://${HOST}:${this.address().port}/webhooks`);
});
