import { defineConfig } from 'vite';

/**
 * No React plugin: Vite's own transform compiles the JSX (tsconfig `jsx: react-jsx`). `base`
 * relative, so the build runs from any path (the e2e fixture serves it at /example-app/).
 */
export default defineConfig({ base: './' });
