import {
  type FunctionComponent,
  type Ref,
  useEffect,
  useImperativeHandle,
  useMemo,
  useRef,
  useState,
} from 'react';
import { Platform, type StyleProp, View, type ViewStyle } from 'react-native';
import { WebView } from 'react-native-webview';
import {
  type FetchToken,
  PinWidgetsError,
  type Refusal,
  WEBVIEW_COMMANDS,
  type WebViewCommand,
  type WidgetEvent,
  type WidgetEventName,
  type WidgetEvents,
  type WidgetKind,
  type WidgetViewOptions,
  createWebViewBridge,
  handlerName,
  misuseEvent,
  widgetUrl,
} from './bridge.js';

type Handlers = {
  [E in WidgetEventName as `on${Capitalize<E>}`]?: (payload: WidgetEvents[E]) => void;
};

/** The imperative handle: the web SDK's commands, run in the widget document. */
export type WidgetViewHandle = { [C in WebViewCommand]: () => void };

export type WidgetViewProps = WidgetViewOptions &
  Handlers & {
    style?: StyleProp<ViewStyle>;
    /** A message from the WebView that the bridge refused, or a fetchToken answer it would not send. */
    onRefused?: (refusal: Refusal) => void;
    ref?: Ref<WidgetViewHandle>;
  };

/** A sensible height while loading; the widget then reports its own (as the web SDK's iframe). */
const LOADING_HEIGHT = 180;
/** Reloads after the content process ended, before the view gives up (a crash loop stops). */
const MAX_RELOADS = 2;

/**
 * One factory for every view. Callbacks live in a ref, so new `onX` or `fetchToken` props never
 * reload the document; new options do (the webview protocol has no `update`), with a fresh
 * WebView so the document reads its fragment again.
 */
function createWidgetView(
  widget: WidgetKind,
  displayName: string,
): FunctionComponent<WidgetViewProps> {
  function WidgetView(props: WidgetViewProps) {
    const latest = useRef(props);
    latest.current = props;
    const webview = useRef<WebView>(null);
    const [height, setHeight] = useState(LOADING_HEIGHT);
    const [attempt, setAttempt] = useState(0);

    const { platformUrl, token, theme, styles, labels, locale } = props;
    const { autoHideSeconds, showToggle, syncOfflinePin } = props;
    const usesFetchToken = props.fetchToken !== undefined;
    const stylesKey = JSON.stringify(styles);
    const labelsKey = JSON.stringify(labels);
    const target = useMemo(() => {
      try {
        return widgetUrl(widget, {
          platformUrl,
          ...(token !== undefined ? { token } : {}),
          ...(usesFetchToken
            ? { fetchToken: (request) => latest.current.fetchToken!(request) }
            : {}),
          ...{ theme, styles, labels, locale, autoHideSeconds, showToggle, syncOfflinePin },
        } satisfies WidgetViewOptions);
      } catch (error) {
        if (error instanceof PinWidgetsError) return error;
        throw error;
      }
      // styles and labels by value: a new object literal each render is the same options.
    }, [
      platformUrl,
      token,
      usesFetchToken,
      theme,
      stylesKey,
      labelsKey,
      locale,
      autoHideSeconds,
      showToggle,
      syncOfflinePin,
    ]);

    const bridge = useMemo(() => {
      if (target instanceof PinWidgetsError) return undefined;
      const fetchToken: FetchToken | undefined = usesFetchToken
        ? (request) => latest.current.fetchToken!(request)
        : undefined;
      return createWebViewBridge({
        widget,
        document: target.document,
        ...(fetchToken ? { fetchToken } : {}),
        inject: (script) => webview.current?.injectJavaScript(script),
        emit: (event: WidgetEvent) => {
          if (event.type === 'resize') setHeight(event.payload.height);
          const handler = latest.current[handlerName(event.type)] as
            ((payload: WidgetEvent['payload']) => void) | undefined;
          handler?.(event.payload);
        },
        refused: (refusal) => latest.current.onRefused?.(refusal),
      });
    }, [target, usesFetchToken]);

    // StrictMode runs this twice: start, stop, start leaves one running document.
    useEffect(() => {
      if (target instanceof PinWidgetsError) {
        latest.current.onError?.(misuseEvent(target));
        return;
      }
      setHeight(LOADING_HEIGHT);
      bridge?.start();
      return () => bridge?.stop();
    }, [target, bridge, attempt]);

    useImperativeHandle(
      props.ref,
      () =>
        Object.fromEntries(
          WEBVIEW_COMMANDS.map((command) => [command, () => bridge?.command(command)]),
        ) as WidgetViewHandle,
      [bridge],
    );

    if (target instanceof PinWidgetsError || !bridge) return <View style={props.style} />;
    const { origin } = target.document;
    const reload = () => {
      bridge.terminated();
      if (attempt < MAX_RELOADS) setAttempt((count) => count + 1);
    };
    return (
      <WebView
        // A new document for new options or after its process ended: it reads its fragment again.
        key={`${attempt}:${target.url}`}
        ref={webview}
        source={{ uri: target.url }}
        style={[{ height }, props.style]}
        // The app says why on onError; the default view would show the WebView's own error text.
        renderError={() => <View />}
        // Other origins are handed to the system browser by react-native-webview; this list is a
        // prefix match, so allowsNavigation makes the exact decision.
        originWhitelist={[origin]}
        onShouldStartLoadWithRequest={(request) => bridge.allowsNavigation(request)}
        onMessage={(event) => bridge.receive(event.nativeEvent.data, event.nativeEvent.url)}
        onError={() => bridge.unreachable()}
        onHttpError={() => bridge.unreachable()}
        onContentProcessDidTerminate={reload}
        onRenderProcessGone={reload}
        javaScriptEnabled
        javaScriptCanOpenWindowsAutomatically={false}
        setSupportMultipleWindows={false}
        // Nothing from the device's files, nothing mixed in over http.
        allowFileAccess={false}
        allowFileAccessFromFileURLs={false}
        allowUniversalAccessFromFileURLs={false}
        mixedContentMode="never"
        // Keep nothing: iOS gets a non-persistent store of its own. Android's `incognito` would
        // delete every cookie of the app's other webviews (CookieManager is process-wide), so
        // there the cache and form data are switched off instead.
        incognito={Platform.OS === 'ios'}
        cacheEnabled={false}
        cacheMode="LOAD_NO_CACHE"
        saveFormDataDisabled
        sharedCookiesEnabled={false}
        thirdPartyCookiesEnabled={false}
        geolocationEnabled={false}
        mediaCapturePermissionGrantType="deny"
        // Revealed digits are not a phone number to call, nor a link to preview.
        dataDetectorTypes="none"
        allowsLinkPreview={false}
        allowsBackForwardNavigationGestures={false}
        // focus() from the app raises the keyboard on iOS only when this is off.
        keyboardDisplayRequiresUserAction={false}
        // The widget sizes itself (`resize`); the view is as tall as the document.
        scrollEnabled={false}
        overScrollMode="never"
      />
    );
  }
  WidgetView.displayName = displayName;
  return WidgetView;
}

/** The Set PIN widget in a WebView. */
export const SetPinView = createWidgetView('set-pin', 'SetPinView');
/** The Reveal PIN widget in a WebView: the PIN is decrypted and shown inside the document only. */
export const RevealPinView = createWidgetView('reveal-pin', 'RevealPinView');
/** Enrolls the cardholder's passkey: `fetchToken` mints an ENROLL_PASSKEY token (docs/step-up.md). */
export const EnrollPasskeyView = createWidgetView('enroll-passkey', 'EnrollPasskeyView');
