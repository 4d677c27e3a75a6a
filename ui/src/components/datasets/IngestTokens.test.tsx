import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { CreatedToken, NewToken, TokenInfo } from '../../api/datasets';
import { IngestTokensView } from './IngestTokens';
import { fakeClient, occurrences } from './testSupport';
import { INITIAL_TOKENS, newTokenProblem, tokenActions, tokensReducer, type TokensAction, type TokensState } from './tokensState';

const SECRET = 'pit_Zk3v9QmW2xLr8sTq';
const OLD: TokenInfo = { id: 'a1b2c3d4e5f6', name: 'batch-loader', datasets: ['orders'], created_at: '2025-01-02T03:04:05+00:00' };
const MADE: CreatedToken = { id: 'f6e5d4c3b2a1', name: 'web-tracker', datasets: ['events'], created_at: '2025-01-03T03:04:05+00:00', token: SECRET };

/** The panel's reducer and actions against a fake runner, as IngestTokens wires them. */
function panel() {
  let listed: TokenInfo[] = [OLD];
  const answers = {
    'GET /api/ingest-tokens': { status: 200, body: listed },
    'GET /api/datasets': { status: 200, body: { datasets: [{ name: 'events' }, { name: 'orders' }], problems: [] } },
    'POST /api/ingest-tokens': { status: 201, body: MADE },
    'DELETE /api/ingest-tokens/a1b2c3d4e5f6': { status: 204 },
  };
  const { client, calls } = fakeClient(answers);
  let state: TokensState = INITIAL_TOKENS;
  const dispatch = (a: TokensAction) => {
    state = tokensReducer(state, a);
  };
  const actions = tokenActions(client, dispatch);
  const relist = (next: TokenInfo[]) => {
    listed = next;
    answers['GET /api/ingest-tokens'] = { status: 200, body: listed };
  };
  const render = (form: NewToken = { name: '', datasets: ['events'] }) =>
    renderToStaticMarkup(
      <IngestTokensView
        state={state}
        form={form}
        current="events"
        confirm={null}
        canRevoke
        on={{ name: () => undefined, toggle: () => undefined, create: () => undefined, dismiss: () => undefined, askRevoke: () => undefined, revoke: () => undefined }}
      />,
    );
  return { calls, actions, render, relist, state: () => state };
}

describe('ingest tokens', () => {
  it('lists the tokens, and offers the served datasets with the current one ticked', async () => {
    const p = panel();
    await p.actions.load();
    const html = p.render();
    expect(html).toContain('data-testid="token-row-batch-loader"');
    expect(html).toMatch(/<input type="checkbox" data-testid="token-dataset-events" checked=""\/>/);
    expect(html).toMatch(/<input type="checkbox" data-testid="token-dataset-orders"\/>/);
    expect(html).not.toContain('data-testid="token-created"');
  });

  it('shows a new token once, with a copy button and a note that it cannot be shown again', async () => {
    const p = panel();
    await p.actions.load();
    expect(await p.actions.create({ name: ' web-tracker ', datasets: ['events'] })).toBe(true);
    const post = p.calls.find((c) => c.method === 'POST');
    expect(post?.url).toBe('http://r:1/api/ingest-tokens');
    expect(JSON.parse(post?.body ?? '')).toEqual({ name: 'web-tracker', datasets: ['events'] });

    const shown = p.render();
    expect(occurrences(shown, SECRET)).toBe(1); // in the box only: the list never holds it
    expect(shown).toMatch(new RegExp(`data-testid="token-value">${SECRET}</code><button [^>]*data-testid="token-copy"`));
    expect(shown).toContain('it cannot be shown again');
    expect(shown).toContain('data-testid="token-row-web-tracker"');
    expect(p.state().tokens?.find((t) => t.name === 'web-tracker')).not.toHaveProperty('token');

    // Closing the box forgets it; reloading the list (which never has tokens) does not bring it back.
    p.actions.dismiss();
    p.relist([OLD, { id: MADE.id, name: MADE.name, datasets: MADE.datasets, created_at: MADE.created_at }]);
    await p.actions.load();
    const after = p.render();
    expect(after).not.toContain(SECRET);
    expect(after).not.toContain('data-testid="token-created"');
    expect(after).toContain('data-testid="token-row-web-tracker"');
  });

  it('refuses a form without a name or a dataset, without asking the runner', async () => {
    const p = panel();
    expect(await p.actions.create({ name: '  ', datasets: ['events'] })).toBe(false);
    expect(p.state().error).toBe('Name the token after who will use it.');
    expect(newTokenProblem({ name: 'x', datasets: [] })).toBe('Pick at least one dataset the token may post to.');
    expect(p.calls).toEqual([]);
    expect(p.render()).toContain('data-testid="tokens-error"');
  });

  it('revokes a token with DELETE and drops it from the list', async () => {
    const p = panel();
    await p.actions.load();
    await p.actions.revoke(OLD.id);
    expect(p.calls.at(-1)).toMatchObject({ method: 'DELETE', url: 'http://r:1/api/ingest-tokens/a1b2c3d4e5f6' });
    expect(p.state().tokens).toEqual([]);
    expect(p.render()).toContain('data-testid="tokens-empty"');
  });
});
