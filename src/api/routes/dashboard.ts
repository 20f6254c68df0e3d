import { statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

/** The built dashboard; the same relative path works from src/api/routes and dist/api/routes. */
const DEFAULT_ROOT = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));

// The page holds an API key: it loads nothing from elsewhere and may not be framed.
const POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";
const PAGE_HEADERS = {
  'content-security-policy': `${POLICY}; img-src 'self' data:; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * Every other file (scripts, styles, the favicon): never framed nor sniffed as something else.
 * The portal loads them as subresources, which frame-ancestors does not govern, so they may
 * refuse framing even when the portal page itself is framed.
 */
const FILE_HEADERS = {
  'content-security-policy': "frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/**
 * The portal (/portal, CONTRACT section 6): the same page, which the origins of
 * HERALD_FRAME_ANCESTORS (and no others) may frame, and which may show the theme's https: logo.
 * No X-Frame-Options: it cannot name origins, and CSP frame-ancestors overrides it anyway.
 */
function portalHeaders(frameAncestors: readonly string[]) {
  return {
    'content-security-policy': `${POLICY}; img-src 'self' data: https:; frame-ancestors ${frameAncestors.length > 0 ? frameAncestors.join(' ') : "'none'"}`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Herald</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3rem auto; max-width: 36rem; line-height: 1.5">
<h1>Herald is running</h1>
<p>The dashboard has not been built yet. Run <code>npm run build</code> (or <code>npm start</code>, which builds first) and reload this page.</p>
<p>The API is at <code>/api/v1</code>.</p>
</body></html>
`;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function wantsHtml(req: FastifyRequest): boolean {
  return /\btext\/html\b/.test(String(req.headers.accept ?? ''));
}

/**
 * Serves the dashboard (a Vite build) at `/`: its files as they are, and index.html for `/` and
 * for any other non-API GET that asks for HTML, so that the app's own paths survive a reload.
 * `/portal` is the same page with the portal's headers. Anything else (API paths included)
 * goes to the app's not-found handler.
 */
export function dashboardRoutes(root: string = DEFAULT_ROOT, frameAncestors: readonly string[] = []): FastifyPluginAsync {
  const base = resolve(root);
  const portal = portalHeaders(frameAncestors);
  return async (app) => {
    await app.register(fastifyStatic, { root: base, serve: false });

    function page(reply: FastifyReply, headers: Record<string, string> = PAGE_HEADERS) {
      reply.headers(headers);
      if (!isFile(resolve(base, 'index.html'))) {
        return reply.status(200).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
      }
      return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
    }

    app.get('/*', async (req, reply) => {
      const path = req.url.split('?')[0]!;
      if (path === '/api' || path.startsWith('/api/')) return reply.callNotFound();
      if (path === '/' || path === '/index.html') return page(reply);
      if (path === '/portal') return page(reply, portal);
      let relative: string;
      try {
        relative = decodeURIComponent(path).slice(1);
      } catch {
        return reply.callNotFound();
      }
      const file = resolve(base, relative);
      if (file.startsWith(base + sep) && !relative.split('/').some((s) => s.startsWith('.')) && isFile(file)) {
        // Vite names built assets by their content hash: they never change under one name.
        const hashed = relative.startsWith('assets/');
        return reply.headers(FILE_HEADERS).sendFile(relative, { maxAge: hashed ? '365d' : 0, immutable: hashed });
      }
      if (wantsHtml(req)) return page(reply);
      return reply.callNotFound();
    });
  };
}
