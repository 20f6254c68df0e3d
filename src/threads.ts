import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A thread running the module `name` that sits next to the module `from` (its import.meta.url).
 * Run from src/ (tests, through tsx), --import tsx, which a thread inherits, does not apply to
 * a thread's first module on Node 20, so the thread registers tsx itself.
 */
export function startThread(from: string, name: string, options: WorkerOptions): Worker {
  if (from.endsWith('.ts')) {
    const entry = new URL(`./${name}.ts`, from).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
    return new Worker(boot, { ...options, eval: true });
  }
  return new Worker(new URL(`./${name}.js`, from), options);
}
