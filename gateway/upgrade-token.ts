/**
 * Where a WebSocket client may put its API token at upgrade, in order of preference:
 *  1. `Authorization: Bearer <token>` (servers, CLIs, socket.io-client's extraHeaders),
 *  2. `Sec-WebSocket-Protocol: bearer, <token>` (browsers cannot set headers on a WebSocket),
 *  3. `?token=<token>` (allowed for old clients; the query string is never logged).
 * With (2) the server must select one of the offered subprotocols or browsers fail the connection:
 * we echo the first offered protocol that is not the token itself (`bearer`), never the token.
 */
export interface UpgradeCredentials {
  token: string | null;
  via: 'header' | 'subprotocol' | 'query' | null;
  /** The subprotocol to answer with ('' = none). */
  protocol: string;
}

const TOKEN_PREFIX = 'shub_';

export function extractUpgradeToken(h: { authorization: string; protocol: string; query: string }): UpgradeCredentials {
  const offered = h.protocol
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const protocol = offered.find((p) => !p.startsWith(TOKEN_PREFIX)) ?? '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(h.authorization);
  if (bearer) return { token: bearer[1]!, via: 'header', protocol };
  const fromProtocol = offered.find((p) => p.startsWith(TOKEN_PREFIX));
  if (fromProtocol) return { token: fromProtocol, via: 'subprotocol', protocol };
  const fromQuery = new URLSearchParams(h.query).get('token');
  if (fromQuery) return { token: fromQuery, via: 'query', protocol };
  return { token: null, via: null, protocol };
}
