/// <reference types="vite/client" />

declare module 'webcrypto-shim';
