// The ingest tokens panel's state and what its buttons do, apart from React (tests drive them).
// A created token's secret lives only in `created` until the user closes that box: the list the
// runner answers never holds it, and nothing stores it.
import { ApiError, type ApiClient } from '../../api/client';
import { createToken, listDatasets, listTokens, revokeToken, type CreatedToken, type NewToken, type TokenInfo } from '../../api/datasets';

export interface TokensState {
  tokens: TokenInfo[] | null;
  /** Dataset names the form offers. */
  datasets: string[];
  /** The token just made, shown once. */
  created: CreatedToken | null;
  busy: boolean;
  error: string | null;
}

export const INITIAL_TOKENS: TokensState = { tokens: null, datasets: [], created: null, busy: false, error: null };

export type TokensAction =
  | { type: 'loaded'; tokens: TokenInfo[] }
  | { type: 'datasets'; names: string[] }
  | { type: 'busy' }
  | { type: 'created'; token: CreatedToken }
  | { type: 'revoked'; id: string }
  | { type: 'failed'; message: string }
  | { type: 'dismiss' };

export function tokensReducer(s: TokensState, a: TokensAction): TokensState {
  switch (a.type) {
    case 'loaded':
      return { ...s, tokens: a.tokens };
    case 'datasets':
      return { ...s, datasets: a.names };
    case 'busy':
      return { ...s, busy: true, error: null };
    case 'created': {
      const { token: _secret, ...info } = a.token;
      const tokens = s.tokens ?? [];
      return {
        ...s,
        busy: false,
        created: a.token,
        tokens: tokens.some((t) => t.id === info.id) ? tokens : [...tokens, info],
      };
    }
    case 'revoked':
      return {
        ...s,
        busy: false,
        tokens: (s.tokens ?? []).filter((t) => t.id !== a.id),
        created: s.created?.id === a.id ? null : s.created,
      };
    case 'failed':
      return { ...s, busy: false, error: a.message };
    case 'dismiss':
      return { ...s, created: null };
  }
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Why the form cannot be sent, or null. */
export function newTokenProblem(req: NewToken): string | null {
  if (!req.name.trim()) return 'Name the token after who will use it.';
  if (req.datasets.length === 0) return 'Pick at least one dataset the token may post to.';
  return null;
}

/** Loading, creating and revoking tokens; each result goes through `dispatch`. */
export function tokenActions(client: ApiClient, dispatch: (a: TokensAction) => void, unauthorized?: (message: string) => void) {
  const fail = (e: unknown) => {
    if (e instanceof ApiError && e.status === 401 && unauthorized) unauthorized(e.message);
    else dispatch({ type: 'failed', message: msg(e) });
  };
  return {
    /** The tokens, and the dataset names the form offers. */
    load: async () => {
      try {
        const [tokens, list] = await Promise.all([listTokens(client), listDatasets(client)]);
        dispatch({ type: 'loaded', tokens });
        dispatch({ type: 'datasets', names: list.datasets.map((d) => d.name) });
      } catch (e) {
        fail(e);
      }
    },
    /** Makes a token; true when made (its secret is then in `created`). */
    create: async (req: NewToken): Promise<boolean> => {
      const problem = newTokenProblem(req);
      if (problem) {
        dispatch({ type: 'failed', message: problem });
        return false;
      }
      dispatch({ type: 'busy' });
      try {
        dispatch({ type: 'created', token: await createToken(client, { name: req.name.trim(), datasets: req.datasets }) });
        return true;
      } catch (e) {
        fail(e);
        return false;
      }
    },
    revoke: async (id: string) => {
      dispatch({ type: 'busy' });
      try {
        await revokeToken(client, id);
        dispatch({ type: 'revoked', id });
      } catch (e) {
        fail(e);
      }
    },
    dismiss: () => dispatch({ type: 'dismiss' }),
  };
}
