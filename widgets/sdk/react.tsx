import { type Ref, useEffect, useImperativeHandle, useRef } from 'react';
import {
  EVENT_NAMES,
  type MountOptions,
  type PinWidget,
  PinWidgetsError,
  type WidgetEventName,
  type WidgetEvents,
  mount,
} from './index.js';
import { misuseEvent } from './misuse.js';

type Handlers = {
  [E in WidgetEventName as `on${Capitalize<E>}`]?: (payload: WidgetEvents[E]) => void;
};

export type PinWidgetProps = Omit<MountOptions, 'widget'> &
  Handlers & {
    className?: string;
    /** Imperative handle: submit(), requestPin(), hide(), focus(), clear(). */
    ref?: Ref<Pick<PinWidget, 'submit' | 'requestPin' | 'hide' | 'focus' | 'clear'>>;
  };

/** One factory for every component: mount on effect, destroy on cleanup (StrictMode-safe). */
function createWidgetComponent(kind: MountOptions['widget'], displayName: string) {
  function Component(props: PinWidgetProps) {
    const container = useRef<HTMLDivElement>(null);
    const widget = useRef<PinWidget | undefined>(undefined);
    // Callbacks live in a ref: a new onX prop never remounts or re-subscribes the iframe.
    const latest = useRef(props);
    latest.current = props;
    // A bad option reaches onError, as every other reason not to start, instead of a throw.
    const reportMisuse = (error: unknown) => {
      if (!(error instanceof PinWidgetsError)) throw error;
      latest.current.onError?.(misuseEvent(error));
    };

    useImperativeHandle(props.ref, () => ({
      submit: () => widget.current?.submit(),
      requestPin: () => widget.current?.requestPin(),
      hide: () => widget.current?.hide(),
      focus: () => widget.current?.focus(),
      clear: () => widget.current?.clear(),
    }));

    const { token, platformUrl } = props;
    useEffect(() => {
      const { className: _c, ref: _r, ...props } = latest.current;
      // The onX props are the component's own; the rest are mount() options.
      const options = Object.fromEntries(
        Object.entries(props).filter(([key]) => !/^on[A-Z]/.test(key)),
      ) as Omit<MountOptions, 'widget'>;
      let mounted: PinWidget;
      try {
        mounted = mount(container.current!, {
          ...options,
          widget: kind,
          ...(options.fetchToken
            ? { fetchToken: (request) => latest.current.fetchToken!(request) }
            : {}),
        });
      } catch (error) {
        reportMisuse(error);
        return;
      }
      for (const name of EVENT_NAMES) {
        const key = `on${name[0]!.toUpperCase()}${name.slice(1)}` as keyof Handlers;
        mounted.on(name, (payload) =>
          (latest.current[key] as ((p: unknown) => void) | undefined)?.(payload),
        );
      }
      widget.current = mounted;
      return () => {
        mounted.destroy();
        widget.current = undefined;
      };
    }, [token, platformUrl]);

    const { theme, styles, labels, locale } = props;
    useEffect(() => {
      try {
        widget.current?.update({ theme, styles, labels, locale });
      } catch (error) {
        reportMisuse(error);
      }
    }, [theme, styles, labels, locale]);

    return <div ref={container} className={props.className} />;
  }
  Component.displayName = displayName;
  return Component;
}

export const SetPin = createWidgetComponent('set-pin', 'SetPin');
export const RevealPin = createWidgetComponent('reveal-pin', 'RevealPin');
/** Enrolls the cardholder's passkey (its `fetchToken` mints an ENROLL_PASSKEY token). */
export const EnrollPasskey = createWidgetComponent('enroll-passkey', 'EnrollPasskey');
export type { MountOptions, PinWidget, WidgetEventName, WidgetEvents };
