// Remote runners (name and URL; tokens stay on the runner) and deploys of a pipeline to one.
import type { ApiClient } from './client';

const seg = encodeURIComponent;
const JSON_HEADERS = { 'Content-Type': 'application/json' };

export interface RemoteRunner {
  name: string;
  url: string;
  /** Where this runner keeps the remote's token: the OS keyring (desktop app) or its owner-only file. */
  token_store?: 'keyring' | 'file';
}

/** The base URL that reaches remote `name`'s API through the runner at `localUrl` (which adds the token). */
export function remoteBase(localUrl: string, name: string): string {
  return `${localUrl.replace(/\/+$/, '')}/api/remotes/${seg(name)}`;
}

/** What a deploy answers: the remote's new version and when the pipeline runs next there. */
export interface DeployAnswer {
  remote: string;
  url: string;
  pipeline: string;
  version: number;
  schedule: string | null;
  next_run: string | null;
  bundle_bytes: number;
}

export function listRemotes(client: ApiClient, signal?: AbortSignal): Promise<RemoteRunner[]> {
  return client.json('/api/remotes', { signal });
}

/** Adds or updates a remote; an empty token keeps the stored one. */
export async function putRemote(client: ApiClient, name: string, url: string, token: string): Promise<void> {
  await client.request(`/api/remotes/${seg(name)}`, { method: 'PUT', headers: JSON_HEADERS, body: JSON.stringify({ url, token }) });
}

export async function deleteRemote(client: ApiClient, name: string): Promise<void> {
  await client.request(`/api/remotes/${seg(name)}`, { method: 'DELETE' });
}

/** Validates the pipeline here, bundles its folder and deploys it to `remote`. */
export function deployTo(client: ApiClient, pipeline: string, remote: string): Promise<DeployAnswer> {
  return client.json(`/api/pipelines/${seg(pipeline)}/deploy`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ remote }),
  });
}

/** One line about a deploy: "v3 on prod · schedule 0 2 * * * · next run 2026-11-24 02:00 UTC". */
export function describeDeploy(a: DeployAnswer): string {
  const parts = [`${a.pipeline} v${a.version} on ${a.remote}`];
  if (a.schedule) parts.push(`schedule ${a.schedule}`);
  parts.push(a.next_run ? `next run ${a.next_run.replace('T', ' ')}` : 'no schedule: trigger it there');
  return parts.join(' · ');
}

/** A name for a remote from its URL's host ("prod-1.example" → "prod-1"), for the add form. */
export function suggestRemoteName(url: string, taken: string[]): string {
  const host = url.replace(/^https?:\/\//, '').split(/[/:]/)[0] ?? '';
  let base = (host.split('.')[0] ?? '').replace(/[^A-Za-z0-9_-]/g, '-') || 'runner';
  if (/^\d+$/.test(base) || base === '127' || base === 'localhost') base = 'runner';
  if (!taken.includes(base)) return base;
  for (let n = 2; ; n++) if (!taken.includes(`${base}-${n}`)) return `${base}-${n}`;
}
