import type { Catalog } from '../i18n.js';

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

export default fr;
