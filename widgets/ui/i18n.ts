/**
 * Every string the widgets show, per locale. Hosts may override the labels SPEC §7 names;
 * everything else comes from these catalogs. Placeholders: {length}, {seconds}, {minutes}.
 */
const en = {
  widgetTitle: 'Set your card PIN',
  pinLabel: 'New PIN',
  confirmPinLabel: 'Confirm new PIN',
  pinPlaceholder: '',
  confirmPinPlaceholder: '',
  submitButtonText: 'Set PIN',
  submitLoadingText: 'Setting PIN…',
  hint: '{length} digits. Avoid repeats, sequences and your card number.',
  success: 'Your PIN is set.',
  successOffline:
    'Your PIN is set. Your card’s chip picks it up the next time you insert the card at a terminal.',
  mismatch: 'The two PINs don’t match.',
  weak: 'This PIN is too easy to guess. Avoid repeats (1111), sequences (1234) and common PINs.',
  lastFour: 'Your PIN can’t be the last digits of your card number.',
  length: 'Enter exactly {length} digits.',
  digits: 'Use digits only.',
  expired: 'This session has expired. Please start again.',
  used: 'This session was already used. Please start again.',
  tooMany: 'Too many attempts. Please start again.',
  network: 'We couldn’t reach the server. Check your connection and try again.',
  server: 'Something went wrong on our side. Please try again.',
  insecure: 'This page isn’t secure (it needs https), so your PIN can’t be protected here.',
  loading: 'Loading…',
  revealTitle: 'Your card PIN',
  showPin: 'Show PIN',
  hidePin: 'Hide PIN',
  hidesIn: 'Hides in {seconds} s',
  revealing: 'Getting your PIN…',
  pinHidden: 'PIN hidden',
  pinShown: 'Your PIN is shown',
  notActive: 'Activate your card to see its PIN.',
  noPin: 'This card doesn’t have a PIN yet.',
  rateLimited: 'You’ve viewed your PIN several times. Try again in {minutes} min.',
};

export type MessageKey = keyof typeof en;
export type Catalog = Record<MessageKey, string>;

const es: Catalog = {
  widgetTitle: 'Crea el PIN de tu tarjeta',
  pinLabel: 'PIN nuevo',
  confirmPinLabel: 'Confirma el PIN nuevo',
  pinPlaceholder: '',
  confirmPinPlaceholder: '',
  submitButtonText: 'Guardar PIN',
  submitLoadingText: 'Guardando PIN…',
  hint: '{length} dígitos. Evita repeticiones, secuencias y el número de tu tarjeta.',
  success: 'Tu PIN está listo.',
  successOffline:
    'Tu PIN está listo. El chip de la tarjeta lo recibirá la próxima vez que la insertes en un terminal.',
  mismatch: 'Los dos PIN no coinciden.',
  weak: 'Este PIN es demasiado fácil. Evita repeticiones (1111), secuencias (1234) y PIN comunes.',
  lastFour: 'Tu PIN no puede ser los últimos dígitos de tu tarjeta.',
  length: 'Introduce exactamente {length} dígitos.',
  digits: 'Usa solo números.',
  expired: 'La sesión ha caducado. Vuelve a empezar.',
  used: 'Esta sesión ya se usó. Vuelve a empezar.',
  tooMany: 'Demasiados intentos. Vuelve a empezar.',
  network: 'No pudimos conectar con el servidor. Revisa tu conexión e inténtalo de nuevo.',
  server: 'Algo falló por nuestra parte. Inténtalo de nuevo.',
  insecure: 'Esta página no es segura (necesita https), así que tu PIN no puede protegerse aquí.',
  loading: 'Cargando…',
  revealTitle: 'El PIN de tu tarjeta',
  showPin: 'Mostrar PIN',
  hidePin: 'Ocultar PIN',
  hidesIn: 'Se oculta en {seconds} s',
  revealing: 'Obteniendo tu PIN…',
  pinHidden: 'PIN oculto',
  pinShown: 'Tu PIN está visible',
  notActive: 'Activa tu tarjeta para ver su PIN.',
  noPin: 'Esta tarjeta aún no tiene PIN.',
  rateLimited: 'Has consultado tu PIN varias veces. Inténtalo en {minutes} min.',
};

const fr: Catalog = {
  widgetTitle: 'Choisissez le code de votre carte',
  pinLabel: 'Nouveau code',
  confirmPinLabel: 'Confirmez le nouveau code',
  pinPlaceholder: '',
  confirmPinPlaceholder: '',
  submitButtonText: 'Enregistrer le code',
  submitLoadingText: 'Enregistrement…',
  hint: '{length} chiffres. Évitez les répétitions, les suites et votre numéro de carte.',
  success: 'Votre code est enregistré.',
  successOffline:
    'Votre code est enregistré. La puce le recevra lors de votre prochain paiement avec la carte insérée.',
  mismatch: 'Les deux codes ne correspondent pas.',
  weak: 'Ce code est trop facile à deviner. Évitez les répétitions (1111), les suites (1234) et les codes courants.',
  lastFour: 'Votre code ne peut pas être les derniers chiffres de votre carte.',
  length: 'Saisissez exactement {length} chiffres.',
  digits: 'Chiffres uniquement.',
  expired: 'La session a expiré. Recommencez.',
  used: 'Cette session a déjà servi. Recommencez.',
  tooMany: 'Trop de tentatives. Recommencez.',
  network: 'Serveur injoignable. Vérifiez votre connexion et réessayez.',
  server: 'Un problème est survenu de notre côté. Réessayez.',
  insecure:
    'Cette page n’est pas sécurisée (https requis) : votre code ne peut pas y être protégé.',
  loading: 'Chargement…',
  revealTitle: 'Le code de votre carte',
  showPin: 'Afficher le code',
  hidePin: 'Masquer le code',
  hidesIn: 'Masqué dans {seconds} s',
  revealing: 'Récupération du code…',
  pinHidden: 'Code masqué',
  pinShown: 'Votre code est affiché',
  notActive: 'Activez votre carte pour voir son code.',
  noPin: 'Cette carte n’a pas encore de code.',
  rateLimited: 'Vous avez affiché votre code plusieurs fois. Réessayez dans {minutes} min.',
};

export const CATALOGS: Record<string, Catalog> = { en, es, fr };
export const LABEL_KEYS = [
  'widgetTitle',
  'pinLabel',
  'confirmPinLabel',
  'pinPlaceholder',
  'confirmPinPlaceholder',
  'submitButtonText',
  'submitLoadingText',
] as const satisfies readonly MessageKey[];

/** The catalog for `locale` (exact, then language, then English) with the host's label overrides. */
export function messages(locale: string | undefined, labels: Record<string, string> = {}): Catalog {
  const base = CATALOGS[locale ?? ''] ?? CATALOGS[(locale ?? '').slice(0, 2)] ?? en;
  const overrides = Object.fromEntries(
    LABEL_KEYS.filter((key) => typeof labels[key] === 'string').map((key) => [
      key,
      labels[key]!.slice(0, 80),
    ]),
  );
  return { ...base, ...overrides };
}

export function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ''));
}
