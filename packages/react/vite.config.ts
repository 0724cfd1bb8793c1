import path from 'node:path';
import ts from 'typescript';
import { type Plugin, defineConfig } from 'vite';

const repository = path.resolve(import.meta.dirname, '../..');
const sdk = (file: string) => path.join(repository, 'widgets/sdk', file);
const CORE_PACKAGE = '@pin-widgets/js';

/**
 * widgets/sdk/react.tsx imports the core beside it (`./index.js`); in the package that import is
 * @pin-widgets/js, so an app that also uses the core or its elements has one copy of it.
 */
function coreFromPackage(): Plugin {
  return {
    name: 'pin-widgets-core-from-package',
    enforce: 'pre',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      const resolved = path.resolve(path.dirname(importer), source);
      return resolved === sdk('index.js') ? { id: CORE_PACKAGE, external: true } : null;
    },
  };
}

/**
 * The package's one declaration file: react.tsx's, checked by tsc with tsconfig.build.json, its
 * import of the core's types pointing at @pin-widgets/js as its code does.
 */
function declarations(): Plugin {
  return {
    name: 'pin-widgets-react-declarations',
    generateBundle() {
      const config = ts.getParsedCommandLineOfConfigFile(
        path.join(import.meta.dirname, 'tsconfig.build.json'),
        {},
        { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
      );
      if (!config) return this.error('tsconfig.build.json could not be read');
      const program = ts.createProgram(config.fileNames, config.options);
      const problems = ts.getPreEmitDiagnostics(program);
      if (problems.length) {
        return this.error(
          ts.formatDiagnostics(problems, {
            getCanonicalFileName: (file) => file,
            getCurrentDirectory: () => repository,
            getNewLine: () => '\n',
          }),
        );
      }
      let declaration: string | undefined;
      program.emit(
        undefined,
        (file, text) => {
          if (file.endsWith('/widgets/sdk/react.d.ts')) declaration = text;
        },
        undefined,
        true,
      );
      const source = declaration?.replaceAll(`from './index.js'`, `from '${CORE_PACKAGE}'`);
      if (!source || /from '\.{1,2}\//.test(source)) {
        return this.error(`react.d.ts must import nothing relative but the core: ${source}`);
      }
      this.emitFile({ type: 'asset', fileName: 'index.d.ts', source });
    },
  };
}

/** @pin-widgets/react: widgets/sdk/react.tsx (what the platform serves as pin-widgets-react.js). */
export default defineConfig({
  root: import.meta.dirname,
  publicDir: false,
  plugins: [coreFromPackage(), declarations()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    minify: false,
    target: 'es2022',
    lib: { entry: sdk('react.tsx'), formats: ['es'], fileName: () => 'index.js' },
    rollupOptions: {
      external: ['react', 'react/jsx-runtime', 'react-dom', CORE_PACKAGE],
      // The declarations take most of the build, by design: no warning about it.
      checks: { pluginTimings: false },
    },
  },
});
