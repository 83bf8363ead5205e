import { KnownTokens } from './known-tokens';

const ids = (n: string) => ({ tokenId: `t-${n}`, userId: `u-${n}` });

describe('KnownTokens: the request guard\'s token memory is least-recently-used', () => {
  it('a full memory forgets the token used longest ago, not the one learnt first', () => {
    const known = new KnownTokens(2);
    known.remember('a', ids('a'));
    known.remember('b', ids('b'));
    known.remember('a', ids('a')); // a's next request
    known.remember('c', ids('c'));
    expect(known.get('a')).toEqual(ids('a'));
    expect(known.get('b')).toBeUndefined();
    expect(known.get('c')).toEqual(ids('c'));
  });

  it('remembering a known token again evicts nothing, and the memory never holds more than its bound', () => {
    const known = new KnownTokens(2);
    known.remember('a', ids('a'));
    known.remember('b', ids('b'));
    known.remember('b', ids('b'));
    expect([known.get('a'), known.get('b'), known.size]).toEqual([ids('a'), ids('b'), 2]);
    for (const h of ['c', 'd', 'e']) known.remember(h, ids(h));
    expect(known.size).toBe(2);
  });

  it('a forgotten token (revoked or expired) is unknown until it authenticates again', () => {
    const known = new KnownTokens();
    known.remember('a', ids('a'));
    known.forget('a');
    expect(known.get('a')).toBeUndefined();
  });
});
