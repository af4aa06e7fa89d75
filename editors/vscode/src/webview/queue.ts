// Key actions (moves and edits) run one at a time, in order, each reading the cursor when it
// runs: a Home typed right after a Backspace acts on the line as the Backspace left it.

import { fail } from "./render";

const queue: (() => Promise<void>)[] = [];
/** Whether `drain` is running the queue. */
let running = false;

export function schedule(action: () => Promise<void>): void {
  queue.push(action);
  if (!running) void drain();
}

async function drain(): Promise<void> {
  running = true;
  (window as { tomeBusy?: boolean }).tomeBusy = true; // for the tests: keys still being applied

  try {
    while (queue.length) {
      try {
        await queue.shift()!();
      } catch (e) {
        fail(e);
      }
    }
  } finally {
    running = false;
    (window as { tomeBusy?: boolean }).tomeBusy = false;
  }
}
