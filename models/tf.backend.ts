import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Logger } from '../shared/logging/logger';
import { REPO_ROOT } from '../shared/paths';
import { AppError } from '../shared/errors/app-error';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = BackendName | 'auto';

/**
 * Chooses the TensorFlow.js backend once per process. `auto` prefers tfjs-node (native libtensorflow,
 * registered as "tensorflow" when the optional package is installed — its install script downloads
 * libtensorflow, which fails on machines without GitHub access), then wasm, then the pure-JS cpu backend.
 * Every model runs the same layers code on whichever backend is active.
 */
let wasmPathsSet = false;

function tryTfjsNode(): boolean {
  try {
    // Optional dependency, resolved at run time only: absent here (see DESIGN.md §3).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

function wasmDistDir(): string {
  // The .wasm binaries ship inside the package; a file path (not a URL) keeps loading offline.
  try {
    return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  } catch {
    return path.join(REPO_ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  }
}

async function activate(name: BackendName): Promise<boolean> {
  if (name === 'tensorflow' && !tryTfjsNode()) return false;
  if (name === 'wasm' && !wasmPathsSet) {
    setWasmPaths(wasmDistDir() + path.sep);
    wasmPathsSet = true;
  }
  try {
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
  } catch {
    return false;
  }
  if (name === 'cpu') {
    // tfjs-backend-cpu prints a "install tfjs-node" banner on first use; we log our own choice instead.
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  }
  return tf.getBackend() === name;
}

/** Activates the preferred backend (falling back in the order above for `auto`) and logs the choice. */
export async function useBackend(preference: BackendPreference, logger?: Logger): Promise<BackendName> {
  const order: BackendName[] = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  for (const name of order) {
    if (tf.getBackend() === name || (await activate(name))) {
      // wasm threads need cross-origin isolated workers, which tfjs-backend-wasm does not use under Node: SIMD, single thread.
      logger?.info({ module: 'models', backend: name, preference, simd: name === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : undefined }, 'TensorFlow.js backend selected');
      return name;
    }
    logger?.debug({ module: 'models', backend: name }, 'TensorFlow.js backend unavailable');
  }
  throw new AppError('MODEL_BACKEND_UNAVAILABLE', `TensorFlow.js backend "${preference}" is not available in this process${preference === 'tensorflow' ? ' (@tensorflow/tfjs-node is not installed)' : ''}; set MODELS_BACKEND=auto`, {
    context: { backend: preference },
  });
}

export { tf };
