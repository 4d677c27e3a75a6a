// Connections: named, typed settings (s3 for now) kept in the workspace's connections.toml.
// Secret settings never come back from the runner: only references like ${secret:NAME} or
// ${env:NAME}, and whether they resolve. Typed secret values go out once, in `secrets`.
import type { ApiClient } from './client';

const seg = encodeURIComponent;
const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** One setting of a connection as the runner shows it: a plain value or a reference, never a secret's value. */
export interface ConnectionSetting {
  key: string;
  /** The plain value (null for references and for secret settings). */
  value: string | null;
  /** `${secret:NAME}` or `${env:NAME}`, when the setting is a reference. */
  reference: string | null;
  secret: boolean;
  /** Whether the value or reference resolves on this runner. */
  resolved: boolean;
}

export interface Connection {
  name: string;
  type: string;
  settings: ConnectionSetting[];
  /** What is wrong with it (e.g. a reference that does not resolve); null when it is usable. */
  problem: string | null;
}

/** A setting a connection type has: text or bool; secret ones are only ever references. */
export interface SettingInfo {
  key: string;
  kind: 'text' | 'bool';
  secret: boolean;
}

export interface ConnectionTypeInfo {
  type: string;
  settings: SettingInfo[];
}

/** GET /api/connections. */
export interface ConnectionsAnswer {
  /** The file, relative to the workspace (`connections.toml`). */
  file: string;
  /** The file does not load: its message, with file:line:col. */
  error: string | null;
  connections: Connection[];
  /** Names of the secrets in the runner's store (never values). */
  secrets: string[];
  types: ConnectionTypeInfo[];
}

/** PUT /api/connections/{name}: plain values or references in `settings`, typed secret values in `secrets`. */
export interface ConnectionPut {
  type: string;
  settings: Record<string, string>;
  /** Secret values typed by the user; the runner stores each and writes `${secret:<name>-<key>}`. */
  secrets: Record<string, string>;
}

/** POST /api/connections/{name}/test: one line, "ok: …" or "failed: …". */
export interface ConnectionTest {
  ok: boolean;
  message: string;
}

export function listConnections(client: ApiClient, signal?: AbortSignal): Promise<ConnectionsAnswer> {
  return client.json('/api/connections', { signal });
}

/** Adds or replaces connection `name`; a secret setting in neither map keeps its current reference. */
export async function putConnection(client: ApiClient, name: string, body: ConnectionPut): Promise<void> {
  await client.request(`/api/connections/${seg(name)}`, { method: 'PUT', headers: JSON_HEADERS, body: JSON.stringify(body) });
}

export async function deleteConnection(client: ApiClient, name: string): Promise<void> {
  await client.request(`/api/connections/${seg(name)}`, { method: 'DELETE' });
}

/** Asks the runner to reach the connection (and `bucket`, when given) with its credentials. */
export function testConnection(client: ApiClient, name: string, bucket: string | null = null): Promise<ConnectionTest> {
  return client.json(`/api/connections/${seg(name)}/test`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ bucket }) });
}

/** Why `name` cannot name a connection, or null when it can (letters, digits, _ and -). */
export function connectionNameProblem(name: string): string | null {
  if (!name) return 'Give the connection a name.';
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return `"${name}" is not a valid name: use letters, digits, _ and -.`;
  return null;
}

/** True for text that is one `${env:NAME}` or `${secret:NAME}` reference. */
export const isReference = (text: string): boolean => /^\$\{(env|secret):[A-Za-z0-9_.-]+\}$/.test(text.trim());

export const setting = (c: Connection, key: string): ConnectionSetting | undefined => c.settings.find((s) => s.key === key);

/** What the list shows for a non-secret setting: its value, else its reference, else null. */
export function settingText(c: Connection, key: string): string | null {
  const s = setting(c, key);
  return s ? (s.value ?? s.reference) : null;
}

/** "set" when a secret setting has a reference that resolves here, else "not set". */
export function secretState(s: ConnectionSetting | undefined): 'set' | 'not set' {
  return s && (s.reference !== null || s.value !== null) && s.resolved ? 'set' : 'not set';
}

const TRUE = /^(true|1|yes|on)$/i;

/** What the form holds; secret values live outside React state (see ConnectionsView) and come in here only on save. */
export interface ConnectionForm {
  type: string;
  /** Text settings that are not secret: a value or a reference ('' = not set). */
  text: Record<string, string>;
  bool: Record<string, boolean>;
  /** Secret settings: a value typed now, or a reference; '' keeps the current one. */
  secret: Record<string, { mode: 'value' | 'reference'; text: string }>;
}

/** The form for a new connection of `info`'s type, or for editing `existing`. */
export function initialForm(info: ConnectionTypeInfo, existing?: Connection | null): ConnectionForm {
  const form: ConnectionForm = { type: info.type, text: {}, bool: {}, secret: {} };
  for (const s of info.settings) {
    const cur = existing ? setting(existing, s.key) : undefined;
    if (s.secret) form.secret[s.key] = { mode: 'value', text: '' };
    else if (s.kind === 'bool') form.bool[s.key] = TRUE.test(cur?.value ?? '');
    else form.text[s.key] = cur?.value ?? cur?.reference ?? '';
  }
  return form;
}

/**
 * The PUT body for `form`. Empty text settings are left out (not set); a bool is sent when checked,
 * or as "false" when it was set before; a secret goes in `secrets` when a value was typed, in
 * `settings` when a new reference was entered, and in neither when left empty (the runner keeps
 * the current reference).
 */
export function connectionBody(info: ConnectionTypeInfo, form: ConnectionForm, existing?: Connection | null): ConnectionPut {
  const body: ConnectionPut = { type: form.type, settings: {}, secrets: {} };
  for (const s of info.settings) {
    const cur = existing ? setting(existing, s.key) : undefined;
    if (s.secret) {
      const f = form.secret[s.key];
      const text = f?.text.trim() ?? '';
      if (!f || !text) continue;
      if (f.mode === 'value') body.secrets[s.key] = text;
      else if (text !== cur?.reference) body.settings[s.key] = text;
    } else if (s.kind === 'bool') {
      if (form.bool[s.key]) body.settings[s.key] = 'true';
      else if (cur && (cur.value !== null || cur.reference !== null)) body.settings[s.key] = 'false';
    } else {
      const text = form.text[s.key]?.trim() ?? '';
      if (text) body.settings[s.key] = text;
    }
  }
  return body;
}
