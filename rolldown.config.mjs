// `npm run build`: src/ → dist/ as ES modules, our own modules bundled into a few chunks
// (README, "Performance": Node 20 pays per module file at start-up). Dependencies stay
// external, loaded from node_modules as installed. Each dynamic import stays its own
// chunk, so --help and --version still load only what they print. Not minified: error
// class names are part of what the logs say. Source maps are written for debugging but not
// referenced: the package does not ship them.
import { defineConfig } from 'rolldown';

export default defineConfig({
  input: { main: 'src/main.ts' },
  platform: 'node',
  external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0'),
  output: { dir: 'dist', cleanDir: true, format: 'esm', chunkFileNames: '[name]-[hash].js', sourcemap: 'hidden' },
});
