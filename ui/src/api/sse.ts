// Server-Sent Events parsing (https://html.spec.whatwg.org/multipage/server-sent-events.html),
// for streams read with fetch(): EventSource cannot send an Authorization header.

export interface SseMessage {
  /** `event:` field; "message" when absent. */
  event: string;
  /** `data:` lines joined with "\n". */
  data: string;
  /** `id:` field when present in this message. */
  id?: string;
  /** `retry:` field (ms) when present and numeric. */
  retry?: number;
}

export interface SseParseResult {
  messages: SseMessage[];
  /** Unconsumed text (an incomplete message): prepend it to the next chunk. */
  rest: string;
}

/**
 * Parses every complete message in `buffer` (messages end with a blank line).
 * Pure: feed it `rest + nextChunk` each time. Handles LF, CRLF and CR line ends
 * (a CR at the very end is held back, since an LF may follow in the next chunk),
 * comments (`:` lines), fields without a colon, one optional space after the colon,
 * and ignores messages with no data, as browsers do.
 */
export function parseSse(buffer: string): SseParseResult {
  const messages: SseMessage[] = [];
  let data: string[] = [];
  let hasData = false;
  let event = '';
  let id: string | undefined;
  let retry: number | undefined;
  let pos = 0;
  let consumed = 0;

  while (pos < buffer.length) {
    // find the end of the line
    let end = -1;
    let next = -1;
    for (let i = pos; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c === 10 /* \n */) {
        end = i;
        next = i + 1;
        break;
      }
      if (c === 13 /* \r */) {
        if (i + 1 >= buffer.length) break; // CR at the end: wait for more
        end = i;
        next = buffer.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
        break;
      }
    }
    if (end < 0) break; // incomplete line
    const line = buffer.slice(pos, end);
    pos = next;

    if (line === '') {
      if (hasData) {
        const msg: SseMessage = { event: event || 'message', data: data.join('\n') };
        if (id !== undefined) msg.id = id;
        if (retry !== undefined) msg.retry = retry;
        messages.push(msg);
      }
      data = [];
      hasData = false;
      event = '';
      id = undefined;
      retry = undefined;
      consumed = pos;
      continue;
    }
    if (line.startsWith(':')) continue; // comment / keep-alive

    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);

    switch (field) {
      case 'data':
        data.push(value);
        hasData = true;
        break;
      case 'event':
        event = value;
        break;
      case 'id':
        if (!value.includes('\0')) id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }
  return { messages, rest: buffer.slice(consumed) };
}

/** Incremental wrapper around parseSse. */
export class SseDecoder {
  private rest = '';
  push(chunk: string): SseMessage[] {
    const { messages, rest } = parseSse(this.rest + chunk);
    this.rest = rest;
    return messages;
  }
}
