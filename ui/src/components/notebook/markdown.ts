// Markdown of note cells to HTML. Notes are the user's own files, but the UI never injects
// HTML from them: raw HTML is shown as text, and links/images keep only safe URLs.
import { Marked, type Tokens } from 'marked';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]!);

/** http(s), mailto, in-page anchors and relative paths; not javascript:, data:, vbscript: … */
export function safeUrl(href: string): boolean {
  const h = href.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(h);
  return !scheme || ['http', 'https', 'mailto'].includes(scheme[1]!.toLowerCase());
}

const marked = new Marked({
  gfm: true,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(text);
    },
    link({ href, title, tokens }: Tokens.Link) {
      const inner = this.parser.parseInline(tokens);
      if (!safeUrl(href)) return inner;
      const t = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(href)}"${t} target="_blank" rel="noopener noreferrer">${inner}</a>`;
    },
    image({ href, title, text }: Tokens.Image) {
      if (!safeUrl(href)) return escapeHtml(text);
      const t = title ? ` title="${escapeHtml(title)}"` : '';
      return `<img src="${escapeHtml(href)}" alt="${escapeHtml(text)}"${t}>`;
    },
  },
});

export function renderMarkdown(text: string): string {
  return marked.parse(text, { async: false });
}
