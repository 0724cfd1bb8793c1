import type { Catalog } from '../i18n.js';

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

export default es;
