import fs from 'node:fs';
import { PORTS } from '../faults/private-stack';

/**
 * A fixed listening port inside the kernel's ephemeral range can already be the local end of some
 * outgoing connection (any process's), and the listen fails with EADDRINUSE. A faults run lost a
 * restarted ingest that way on 47464. The fault suite's private stack and infra/stack.sh's defaults stay
 * below the range (stack-restart.test.ts keeps its own 26xxx–29xxx inline, unchecked here).
 */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo, hi];
  } catch { /* not Linux: its default range */ }
  return [32768, 60999];
}

describe('fixed listening ports', () => {
  const [lo, hi] = ephemeralRange();
  const inRange = (p: number) => p >= lo && p <= hi;

  it('the fault suite’s private stack listens below the ephemeral port range', () => {
    expect(Object.entries(PORTS).filter(([, p]) => inRange(p))).toEqual([]);
  });

  it('the native stack’s default ports are below it too', () => {
    const script = fs.readFileSync(require.resolve('../../infra/stack.sh'), 'utf8');
    const defaults = [...script.matchAll(/STACK_[A-Z_]*PORT:-(\d+)/g)].map((m) => Number(m[1]));
    expect(defaults.length).toBeGreaterThanOrEqual(5);
    expect(defaults.filter(inRange)).toEqual([]);
  });
});
