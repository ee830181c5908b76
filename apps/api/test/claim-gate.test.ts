/**
 * The event workers' rule for when to claim (createClaimGate in event-workers.ts), without a database:
 * how many events a worker asks for, and when an ended attempt, a notification or the poll makes it ask.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClaimGate } from '../src/jobs/event-workers.ts';

const POLL_MS = 500;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['performance'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('when the event workers claim', () => {
  it('claims at once for every free slot, then not again after a claim that emptied the queue', () => {
    const gate = createClaimGate(4, POLL_MS);
    expect(gate.toClaim(0)).toBe(4);
    gate.claimed(1, 4);
    // The attempt runs, then ends: a slot is free again, but nothing was due.
    expect(gate.toClaim(1)).toBe(0);
    expect(gate.toClaim(0)).toBe(0);
  });

  it('a notification makes it claim again, for the free slots', () => {
    const gate = createClaimGate(4, POLL_MS);
    gate.toClaim(0);
    gate.claimed(0, 4);
    gate.notified();
    expect(gate.toClaim(1)).toBe(3);
    gate.claimed(1, 3);
    expect(gate.toClaim(2)).toBe(0);
  });

  it('a notification that came during a claim is not lost with its answer', () => {
    const gate = createClaimGate(4, POLL_MS);
    const asked = gate.toClaim(0);
    gate.notified(); // stored after the claim's snapshot: the claim did not see it
    gate.claimed(0, asked);
    expect(gate.toClaim(0)).toBe(4);
  });

  it('in a backlog (claims come back full) it claims again once half the slots are free', () => {
    const gate = createClaimGate(4, POLL_MS);
    expect(gate.toClaim(0)).toBe(4);
    gate.claimed(4, 4);
    expect(gate.toClaim(3)).toBe(0);
    expect(gate.toClaim(2)).toBe(2);
    gate.claimed(2, 2);
    expect(gate.toClaim(3)).toBe(0);
    expect(gate.toClaim(2)).toBe(2);
  });

  it('the poll claims what comes due without a notification, even while attempts keep ending', () => {
    const gate = createClaimGate(4, POLL_MS);
    expect(gate.toClaim(0)).toBe(4);
    gate.claimed(4, 4); // a backlog
    expect(gate.toClaim(2)).toBe(2);
    gate.claimed(0, 2); // drained
    // Attempts end every 100 ms (each wakes the loop, so no wait runs its whole pollMs) …
    for (let t = 100; t < POLL_MS; t += 100) {
      vi.advanceTimersByTime(100);
      expect(gate.toClaim(0)).toBe(0);
    }
    // … and once pollMs has passed since the last claim, it claims anyway.
    vi.advanceTimersByTime(100);
    expect(gate.toClaim(0)).toBe(4);
  });

  it('a wait that ran its whole pollMs makes it claim; so does a failed claim', () => {
    const gate = createClaimGate(4, POLL_MS);
    expect(gate.toClaim(0)).toBe(4);
    gate.claimed(0, 4); // drained
    expect(gate.toClaim(0)).toBe(0);
    gate.pollPassed();
    expect(gate.toClaim(0)).toBe(4);
    gate.failed(); // that claim failed: the next wake-up tries again
    expect(gate.toClaim(0)).toBe(4);
  });
});
