// Loaded into every test file's process (scripts/test.mjs passes --import): after the file's
// own last `after` hooks, fails the file if it left a server, a connection, a child process,
// a thread or a timer running. Unref'd handles do not count (they cannot keep a process up).
import { after, type TestContext } from 'node:test';

/** Handles a test file must have closed by its end. */
const LEAKS = new Set(['TCPServerWrap', 'TCPSocketWrap', 'ProcessWrap', 'Timeout', 'MessagePort', 'Worker']);
/** Closing is asynchronous (a socket's FIN, a child's exit): what is gone by then is no leak. */
const GRACE_MS = 2_000;

function leftovers(): string[] {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) if (LEAKS.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} ${kind}`);
}

async function check(): Promise<void> {
  const deadline = Date.now() + GRACE_MS;
  let left = leftovers();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = leftovers();
  }
  if (left.length === 0) return;
  // Reported on stderr and by the exit code: the leaked handles would keep this process (and
  // the runner waiting for it) alive, and an error of a hook this late is not reported.
  process.stderr.write(`leak check: this test file left running: ${left.join(', ')} (${GRACE_MS} ms after its last hook)\n`);
  process.exit(1);
}

// Only in a test file's own process (the runner sets NODE_TEST_CONTEXT there), not the runner's.
// A hook added while the root's `after` hooks run goes to the end of their list, after those
// the file registered at its top level.
if (process.env.NODE_TEST_CONTEXT) after((t) => void (t as TestContext).after(check));
