interface ImportMetaEnv {
  readonly VITE_PLATFORM_URL?: string;
  readonly VITE_BACKEND_URL?: string;
}
