import { describe, expect, it } from 'vitest';
import { parseSse, SseDecoder } from './sse';

describe('parseSse', () => {
  it('parses complete messages and keeps the incomplete tail', () => {
    const r = parseSse('data: {"a":1}\n\ndata: {"b"');
    expect(r.messages).toEqual([{ event: 'message', data: '{"a":1}' }]);
    expect(r.rest).toBe('data: {"b"');
  });

  it('joins multi-line data and reads event, id and retry', () => {
    const r = parseSse('event: update\nid: 7\nretry: 3000\ndata: one\ndata: two\n\n');
    expect(r.messages).toEqual([{ event: 'update', data: 'one\ntwo', id: '7', retry: 3000 }]);
    expect(r.rest).toBe('');
  });

  it('handles CRLF and lone CR line ends', () => {
    expect(parseSse('data: x\r\n\r\n').messages).toEqual([{ event: 'message', data: 'x' }]);
    expect(parseSse('data: y\r\rdata: z\n\n').messages.map((m) => m.data)).toEqual(['y', 'z']);
  });

  it('holds back a CR at the end of the buffer', () => {
    const r = parseSse('data: x\r\n\r');
    expect(r.messages).toEqual([]);
    expect(parseSse(r.rest + '\n').messages).toEqual([{ event: 'message', data: 'x' }]);
  });

  it('ignores comments, unknown fields, bad retry and data-less messages', () => {
    const r = parseSse(': keep-alive\n\nfoo: bar\nretry: soon\nevent: x\n\ndata\n\n');
    expect(r.messages).toEqual([{ event: 'message', data: '' }]);
  });

  it('strips only one leading space', () => {
    expect(parseSse('data:  two spaces\n\n').messages[0]!.data).toBe(' two spaces');
    expect(parseSse('data:none\n\n').messages[0]!.data).toBe('none');
  });

  it('keeps colons inside the value', () => {
    expect(parseSse('data: {"t":"a:b"}\n\n').messages[0]!.data).toBe('{"t":"a:b"}');
  });
});

describe('SseDecoder', () => {
  it('reassembles messages split at any byte', () => {
    const text = 'data: {"event":"run_started","run_id":1}\r\n\r\n: ping\n\ndata: {"event":"task_started"}\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const d = new SseDecoder();
      const got = [...d.push(text.slice(0, cut)), ...d.push(text.slice(cut))].map((m) => m.data);
      expect(got).toEqual(['{"event":"run_started","run_id":1}', '{"event":"task_started"}']);
    }
  });

  it('streams one character at a time', () => {
    const d = new SseDecoder();
    const out: string[] = [];
    for (const ch of 'data: a\n\ndata: b\n\n') out.push(...d.push(ch).map((m) => m.data));
    expect(out).toEqual(['a', 'b']);
  });
});
