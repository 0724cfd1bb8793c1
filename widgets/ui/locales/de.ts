import type { Catalog } from '../i18n.js';

const de: Catalog = {
  widgetTitle: 'PIN für Ihre Karte festlegen',
  pinLabel: 'Neue PIN',
  confirmPinLabel: 'Neue PIN bestätigen',
  pinPlaceholder: '',
  confirmPinPlaceholder: '',
  currentPinLabel: 'Aktuelle PIN',
  currentPinPlaceholder: '',
  currentPinHint: 'Um Ihre PIN zu ändern, geben Sie zuerst die PIN ein, die Sie jetzt verwenden.',
  submitButtonText: 'PIN festlegen',
  submitLoadingText: 'PIN wird gespeichert…',
  hint: '{length} Ziffern. Keine Wiederholungen, Zahlenfolgen oder Ihre Kartennummer.',
  success: 'Ihre PIN ist festgelegt.',
  successOffline:
    'Ihre PIN ist festgelegt. Der Chip übernimmt sie, wenn Sie die Karte das nächste Mal in ein Terminal stecken.',
  mismatch: 'Die beiden PINs stimmen nicht überein.',
  pinRejected: 'Wählen Sie eine andere PIN.',
  weak: 'Diese PIN ist zu leicht zu erraten. Vermeiden Sie Wiederholungen (1111), Folgen (1234) und häufige PINs.',
  lastFour: 'Die PIN darf nicht aus den letzten Ziffern Ihrer Kartennummer bestehen.',
  length: 'Geben Sie genau {length} Ziffern ein.',
  digits: 'Nur Ziffern verwenden.',
  currentPinIncorrect: 'Das ist nicht Ihre aktuelle PIN.',
  currentPinTriesLeft: 'Das ist nicht Ihre aktuelle PIN. Noch {count} Versuche.',
  currentPinLastTry:
    'Das ist nicht Ihre aktuelle PIN. Noch 1 Versuch: Eine weitere falsche PIN sperrt sie.',
  currentPinRequired: 'Geben Sie Ihre aktuelle PIN ein, um sie zu ändern.',
  pinBlocked:
    'Ihre PIN ist nach zu vielen Fehlversuchen gesperrt. Ihr Kartenherausgeber muss sie entsperren, bevor Sie sie ändern können.',
  expired: 'Die Sitzung ist abgelaufen. Bitte beginnen Sie neu.',
  used: 'Diese Sitzung wurde bereits verwendet. Bitte beginnen Sie neu.',
  tooMany: 'Zu viele Versuche. Bitte beginnen Sie neu.',
  network:
    'Der Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
  server: 'Bei uns ist etwas schiefgelaufen. Bitte versuchen Sie es erneut.',
  insecure:
    'Diese Seite ist nicht sicher (https nötig), daher kann Ihre PIN hier nicht geschützt werden.',
  parentMismatch: 'Dieses PIN-Formular kann auf dieser Seite nicht angezeigt werden.',
  invalidSetup: 'Dieses PIN-Formular ist falsch eingerichtet und kann nicht starten.',
  tokenUnavailable: 'Wir konnten keine sichere Sitzung starten. Bitte versuchen Sie es erneut.',
  invalidSession: 'Diese Sitzung ist nicht mehr gültig. Bitte beginnen Sie neu.',
  clock:
    'Die Uhr Ihres Geräts scheint falsch zu gehen. Korrigieren Sie sie und versuchen Sie es erneut.',
  cryptoFailed: 'Ihre PIN konnte nicht sicher gesendet werden. Bitte beginnen Sie neu.',
  unexpected:
    'In diesem Formular ist etwas schiefgelaufen. Laden Sie die Seite neu und versuchen Sie es erneut.',
  loading: 'Wird geladen…',
  revealTitle: 'Die PIN Ihrer Karte',
  showPin: 'PIN anzeigen',
  hidePin: 'PIN ausblenden',
  hidesIn: 'Wird in {seconds} s ausgeblendet',
  revealing: 'PIN wird abgerufen…',
  pinHidden: 'PIN ausgeblendet',
  pinShown: 'Ihre PIN wird angezeigt',
  notActive: 'Aktivieren Sie Ihre Karte, um die PIN zu sehen.',
  noPin: 'Diese Karte hat noch keine PIN.',
  rateLimited: 'Sie haben Ihre PIN mehrmals angesehen. Versuchen Sie es in {minutes} Min. erneut.',
  enrollTitle: 'Passkey einrichten',
  enrollIntro:
    'Bestätigen Sie mit Fingerabdruck, Gesicht oder Displaysperre, dass Sie es sind, bevor Ihre PIN angezeigt wird.',
  enrollDetail:
    'Ihr Fingerabdruck oder Gesicht verlässt nie Ihr Gerät: Er entsperrt nur den Passkey, den Ihr Gerät aufbewahrt.',
  enrollButton: 'Passkey einrichten',
  enrolling: 'Folgen Sie den Schritten auf Ihrem Gerät…',
  enrolled:
    'Ihr Passkey ist eingerichtet. Ab jetzt bestätigen Sie, dass Sie es sind, bevor Ihre PIN angezeigt wird.',
  enrollCancelled: 'Einrichtung des Passkeys abgebrochen. Sie können es erneut versuchen.',
  enrollFailed: 'Ihr Passkey konnte nicht eingerichtet werden. Bitte versuchen Sie es erneut.',
  alreadyEnrolled: 'Dieses Gerät hat bereits einen Passkey für Ihre Karte.',
  noCustomer: 'Für diese Karte kann kein Passkey eingerichtet werden.',
  passkeyUnsupported:
    'Passkeys funktionieren in diesem Browser oder dieser App nicht, daher ist dieser Schritt hier nicht möglich.',
  stepUpHint: 'Sie bestätigen zuerst mit Ihrem Passkey, dass Sie es sind.',
  stepUpPrompt: 'Bestätigen Sie auf Ihrem Gerät, dass Sie es sind…',
  stepUpCancelled: 'Bestätigung mit dem Passkey abgebrochen. Sie können es erneut versuchen.',
  stepUpFailed:
    'Die Bestätigung mit Ihrem Passkey konnte nicht geprüft werden. Bitte versuchen Sie es erneut.',
  stepUpRequired: 'Bestätigen Sie mit Ihrem Passkey, dass Sie es sind, um Ihre PIN zu sehen.',
  passkeyNotEnrolled:
    'Richten Sie zuerst einen Passkey ein: Ihr Kartenprogramm verlangt ihn, bevor Ihre PIN angezeigt wird.',
};

export default de;
