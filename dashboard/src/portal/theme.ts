// The portal's look (the session's theme) and its size report to the host page.
import type { PortalOpened } from './link';

type Theme = PortalOpened['theme'];

/** Sets the theme on <html>: the primary colour (and its hover and soft shades) as CSS variables, and the dark variant. */
export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  root.classList.add('portal');
  root.classList.toggle('theme-dark', theme.dark === true);
  const meta = document.querySelector('meta[name="color-scheme"]');
  if (meta) meta.setAttribute('content', theme.dark ? 'dark' : 'light');
  const color = theme.primary_color;
  if (!color) return;
  const rgb = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16)) as [number, number, number];
  root.style.setProperty('--primary', color);
  root.style.setProperty('--primary-hover', mix(rgb, [0, 0, 0], 0.15));
  root.style.setProperty('--primary-soft', theme.dark ? mix(rgb, [24, 28, 38], 0.8) : mix(rgb, [255, 255, 255], 0.9));
  // Text on the colour: white on a dark one, near-black on a light one.
  root.style.setProperty('--on-primary', luminance(rgb) > 0.5 ? '#101828' : '#ffffff');
}

function mix(a: [number, number, number], b: [number, number, number], t: number): string {
  return '#' + a.map((v, i) => Math.round(v * (1 - t) + b[i]! * t).toString(16).padStart(2, '0')).join('');
}

function luminance([r, g, b]: [number, number, number]): number {
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

/**
 * Inside a frame, tells the parent the page's height whenever it changes, as
 * `{type: "herald:resize", height}`, so that the host can size the iframe to it. Returns the stop.
 */
export function reportHeight(): () => void {
  if (window.parent === window) return () => undefined;
  let last = -1;
  const observer = new ResizeObserver(() => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    // Only a height is sent, nothing of the workspace: any host may read it.
    window.parent.postMessage({ type: 'herald:resize', height }, '*');
  });
  observer.observe(document.documentElement);
  return () => observer.disconnect();
}
