// Test helper (not bundled: only *.test.ts import it): a response body that delivers `chunks`
// as separate reads, so parsers meet events split across chunk boundaries as on the network.
export function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}
