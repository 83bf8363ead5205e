import fs from 'node:fs';
import path from 'node:path';

/** The repository root, whether running from sources (tsx, jest) or from dist/. */
export const REPO_ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
})();

export const repoPath = (...parts: string[]) => path.join(REPO_ROOT, ...parts);
