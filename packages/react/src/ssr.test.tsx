import { StrictMode } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { EnrollPasskey, RevealPin, SetPin } from '../../../widgets/sdk/react.js';

describe('rendering on a server (Node, no DOM)', () => {
  it('renders a placeholder per widget, mounts nothing and throws nothing', () => {
    expect(typeof document).toBe('undefined');
    const fetchToken = async () => 'wt_never_asked';
    const html = renderToString(
      <StrictMode>
        <SetPin className="set" fetchToken={fetchToken} platformUrl="https://platform.example" />
        <RevealPin token="wt_b" platformUrl="https://platform.example" showToggle />
        <EnrollPasskey fetchToken={fetchToken} platformUrl="https://platform.example" />
      </StrictMode>,
    );
    expect(html).toBe('<div class="set"></div><div></div><div></div>');
    expect(html).not.toContain('wt_b');
  });

  it('throws nothing for an option the browser mount would refuse (it reports that to onError there)', () => {
    const html = renderToString(
      <RevealPin token="wt_b" platformUrl="https://platform.example" autoHideSeconds={120} />,
    );
    expect(html).toBe('<div></div>');
  });
});
