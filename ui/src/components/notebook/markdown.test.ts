import { describe, expect, it } from 'vitest';
import { renderMarkdown, safeUrl } from './markdown';

describe('renderMarkdown', () => {
  it('renders markdown', () => {
    expect(renderMarkdown('# Totals\n\nSum of **amount** per `customer`.')).toBe(
      '<h1>Totals</h1>\n<p>Sum of <strong>amount</strong> per <code>customer</code>.</p>\n',
    );
  });

  it('shows raw HTML as text instead of injecting it', () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\nHi <b onclick="x()">there</b>');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b ');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;b onclick=&quot;x()&quot;&gt;there&lt;/b&gt;');
  });

  it('keeps safe links and drops unsafe URLs', () => {
    expect(renderMarkdown('[docs](https://pola.rs "Polars")')).toBe(
      '<p><a href="https://pola.rs" title="Polars" target="_blank" rel="noopener noreferrer">docs</a></p>\n',
    );
    expect(renderMarkdown('[x](javascript:alert(1))')).toBe('<p>x</p>\n');
    expect(renderMarkdown('![pic](data:image/png;base64,AAAA)')).toBe('<p>pic</p>\n');
  });
});

describe('safeUrl', () => {
  it('accepts web, mail and relative URLs only', () => {
    expect(safeUrl('https://x.org')).toBe(true);
    expect(safeUrl('mailto:a@b.c')).toBe(true);
    expect(safeUrl('#top')).toBe(true);
    expect(safeUrl('docs/readme.md')).toBe(true);
    expect(safeUrl(' JavaScript:alert(1)')).toBe(false);
    expect(safeUrl('vbscript:x')).toBe(false);
  });
});
