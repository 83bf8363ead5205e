import fs from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';

/**
 * The web dashboard's files (dashboards/web), served from an allowlist made once at start-up: every
 * file under the folder whose extension is a browser asset, minus tests and type declarations. A
 * request is matched on its *decoded* path against that list and nothing else, so no encoding trick
 * (`.t%73`, `%2e%2e/`, NUL) can reach a file outside it — a filter on the raw path cannot promise that,
 * because the file server decodes after the filter looked.
 */
const ASSET_EXTENSIONS = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.png', '.ico', '.webp', '.woff2']);
const NOT_AN_ASSET = /(\.test\.|\.spec\.|\.d\.ts$)/;

export function dashboardAssets(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (abs: string, url: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const file = path.join(abs, e.name);
      // vendor/uplot is a symlink into node_modules: follow links.
      const st = e.isSymbolicLink() ? fs.statSync(file) : e;
      if (st.isDirectory()) walk(file, `${url}${e.name}/`);
      else if (st.isFile() && ASSET_EXTENSIONS.has(path.extname(e.name).toLowerCase()) && !NOT_AN_ASSET.test(e.name)) out.set(`${url}${e.name}`, file);
    }
  };
  walk(path.resolve(dir), '/');
  return out;
}

export function serveDashboard(dir: string): RequestHandler {
  const assets = dashboardAssets(dir);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let p: string;
    try {
      p = decodeURIComponent(req.path);
    } catch {
      return next(); // malformed escapes: not one of ours
    }
    const file = assets.get(p === '/' ? '/index.html' : p);
    if (!file) return next();
    res.sendFile(file, { dotfiles: 'deny', headers: { 'X-Content-Type-Options': 'nosniff' } }, (err) => {
      if (err && !res.headersSent) next();
    });
  };
}
