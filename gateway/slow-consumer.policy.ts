/**
 * What to do with a client whose outgoing buffer is over the limit before we publish to it. uWS skips
 * (drops) a published message for a socket whose backpressure exceeds maxBackpressure; 'drop' keeps
 * the socket and counts the loss, 'close' disconnects it (close 4008) so it reconnects and refetches
 * state over REST instead of silently missing updates.
 */
export type SlowConsumerPolicy = 'drop' | 'close';
export type BackpressureAction = 'send' | 'drop' | 'close';

export function backpressureAction(bufferedBytes: number, maxBackpressure: number, policy: SlowConsumerPolicy): BackpressureAction {
  if (bufferedBytes <= maxBackpressure) return 'send';
  return policy;
}
