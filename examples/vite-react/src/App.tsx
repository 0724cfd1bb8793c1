import { type PinWidgetsSdk, PinWidgetsLoadError, loadPinWidgets } from '@pin-widgets/js/loader';
import { SetPin } from '@pin-widgets/react';
import { useState } from 'react';
import { config } from './config.js';
import { fetchToken } from './token.js';

/** Sets the card's PIN with the React component, which bundles the core from @pin-widgets/js. */
function ChoosePin({ card }: { card: string }) {
  const [status, setStatus] = useState('Loading the PIN form…');
  return (
    <section aria-labelledby="choose-pin">
      <h2 id="choose-pin">Choose your card PIN</h2>
      <SetPin
        key={card}
        platformUrl={config.platformUrl}
        fetchToken={fetchToken}
        onLoad={() => setStatus('Type your new PIN twice.')}
        onSuccess={() => setStatus('Your PIN is set.')}
        onFailure={({ message }) => setStatus(message)}
        onError={({ code, message }) =>
          setStatus(`The PIN form did not start (${code}): ${message}`)
        }
      />
      <p role="status">{status}</p>
    </section>
  );
}

/** Or the platform's own script, pinned with Subresource Integrity, for what mounts by hand. */
function PlatformScript() {
  const [loaded, setLoaded] = useState('Not loaded.');
  const load = () =>
    loadPinWidgets({ platformUrl: config.platformUrl }).then(
      (sdk: PinWidgetsSdk | null) =>
        setLoaded(sdk ? `Loaded: PinWidgets.mount is a ${typeof sdk.mount}.` : 'No window.'),
      (error: unknown) =>
        setLoaded(
          error instanceof PinWidgetsLoadError
            ? `Refused (${error.code}): ${error.message}`
            : `Refused: ${String(error)}`,
        ),
    );
  return (
    <section aria-labelledby="platform-script">
      <h2 id="platform-script">The platform's pinned script</h2>
      <button type="button" onClick={load}>
        Load PinWidgets from the platform
      </button>
      <p aria-live="polite" id="loader-status">
        {loaded}
      </p>
    </section>
  );
}

export function App() {
  return (
    <main>
      <h1>Example program</h1>
      {config.card ? (
        <ChoosePin card={config.card} />
      ) : (
        <p>Open this page with ?card=&lt;card id&gt; to choose that card's PIN.</p>
      )}
      <PlatformScript />
    </main>
  );
}
