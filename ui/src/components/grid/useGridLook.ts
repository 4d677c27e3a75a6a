// What both grids (paged output, static preview) need to look like the app: glide's theme and
// our palette, re-read from the CSS variables when the theme key changes (glide paints on a
// canvas, so it cannot follow CSS by itself), one header painter for the grid's life that reads
// the latest headers and palette through refs, and the DataEditor props they share.
import { useMemo, useRef } from 'react';
// Glide's own stylesheet travels with the grids, so it loads with their (lazy) chunk.
import '@glideapps/glide-data-grid/dist/index.css';
import { HEADER_HEIGHT, makeHeaderPainter, type HeaderInfo } from './header';
import { gridPalette, gridTheme } from './theme';

export function useGridLook(themeKey: string, headers: HeaderInfo[]) {
  const theme = useMemo(() => {
    void themeKey;
    return gridTheme();
  }, [themeKey]);
  const palette = useMemo(() => {
    void themeKey;
    return gridPalette();
  }, [themeKey]);
  const headersRef = useRef(headers);
  headersRef.current = headers;
  const paletteRef = useRef(palette);
  paletteRef.current = palette;
  const drawHeader = useMemo(() => makeHeaderPainter(() => headersRef.current, () => paletteRef.current), []);
  const editorProps = useMemo(
    () => ({ theme, drawHeader, headerHeight: HEADER_HEIGHT, smoothScrollX: true, smoothScrollY: true, width: '100%', height: '100%' }) as const,
    [theme, drawHeader],
  );
  return { palette, editorProps };
}
