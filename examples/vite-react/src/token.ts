import { config } from './config.js';

/**
 * The widget asks for a token bound to its own key (`jkt`, DPoP); the program's backend mints
 * it with `POST /v1/cards/{id}/widget_token` and its API key, which never reaches this page.
 */
export async function fetchToken({ jkt, widgetType }: { jkt: string; widgetType: string }) {
  const query = new URLSearchParams({ card: config.card ?? '', type: widgetType, jkt });
  const response = await fetch(`${config.backendUrl}/token?${query}`);
  const { widget_token } = (await response.json()) as { widget_token?: string };
  if (!response.ok || !widget_token) throw new Error('The backend minted no widget token');
  return widget_token;
}
