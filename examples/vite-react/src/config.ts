/**
 * Where the page talks to, set when it is built (`VITE_PLATFORM_URL`, `VITE_BACKEND_URL`) or
 * opened (`?platformUrl=`, `?backend=`); which card, when opened (`?card=`: in a real program
 * the backend knows the signed-in cardholder's card, and the page never names it).
 */
const query = new URLSearchParams(location.search);

export const config = {
  platformUrl:
    query.get('platformUrl') ?? import.meta.env.VITE_PLATFORM_URL ?? 'http://localhost:4000',
  /** The program's backend, which mints widget tokens with its API key ('' = this origin). */
  backendUrl: query.get('backend') ?? import.meta.env.VITE_BACKEND_URL ?? '',
  card: query.get('card'),
};
