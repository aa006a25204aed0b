/** Style sheets are bundled by esbuild (console-route.ts), not read by TypeScript. */
declare module '*.css';
