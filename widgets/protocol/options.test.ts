import { describe, expect, it } from 'vitest';
import { MAX_LABEL_LENGTH, appearanceProblem, widgetOptionsProblem } from './options.js';

describe('widgetOptionsProblem', () => {
  it('accepts every option at its limits', () => {
    expect(
      widgetOptionsProblem({
        theme: 'night-shift',
        locale: 'fr-CA',
        labels: { pinLabel: 'x'.repeat(MAX_LABEL_LENGTH), widgetTitle: 'Title' },
        styles: { colorPrimary: '#0a5', fontSize: '16px', fontFamily: '"Inter", sans-serif' },
        autoHideSeconds: 60,
        showToggle: false,
        syncOfflinePin: true,
        locale_unused: undefined,
      }),
    ).toBeUndefined();
    expect(widgetOptionsProblem({ autoHideSeconds: 1 })).toBeUndefined();
  });

  it.each([
    [{ autoHideSeconds: 120 }, 'autoHideSeconds', /from 1 to 60/],
    [{ autoHideSeconds: 0 }, 'autoHideSeconds', /from 1 to 60/],
    [{ autoHideSeconds: 2.5 }, 'autoHideSeconds', /whole number/],
    [{ autoHideSeconds: '5' }, 'autoHideSeconds', /whole number/],
    [{ labels: { pinLabel: 'x'.repeat(201) } }, 'labels.pinLabel', /at most 100 characters/],
    [{ labels: { pinLable: 'PIN' } }, 'labels.pinLable', /unknown; use one of widgetTitle/],
    [{ labels: { pinLabel: 4 } }, 'labels.pinLabel', /pass a string/],
    [{ labels: 'PIN' }, 'labels', /pass an object/],
    [{ styles: { colorPrimary: 'red; background: url(x)' } }, 'styles.colorPrimary', /#hex or rgb/],
    [{ styles: { fontSize: 'calc(1px)' } }, 'styles.fontSize', /px, rem or em/],
    [{ styles: { position: 'fixed' } }, 'styles.position', /unknown/],
    [{ theme: 'dark' }, 'theme', /"default" or "night-shift"/],
    [{ locale: 'english' }, 'locale', /like "fr-CA"/],
    [{ showToggle: 'yes' }, 'showToggle', /true or false/],
    [{ autohideSeconds: 5 }, 'autohideSeconds', /unknown; use one of/],
    [{ toString: 5 }, 'toString', /unknown/],
  ])('refuses %j, naming %s and the fix', (options, option, fix) => {
    const problem = widgetOptionsProblem(options);
    expect(problem?.option).toBe(option);
    expect(problem?.fix).toMatch(fix);
  });

  it('never repeats the value it refuses (a label or token may be private)', () => {
    const problem = widgetOptionsProblem({ labels: { pinLabel: 'secret-'.repeat(40) } });
    expect(JSON.stringify(problem)).not.toContain('secret');
  });
});

describe('appearanceProblem', () => {
  it('allows only what update() may change', () => {
    expect(appearanceProblem({ theme: 'default', locale: 'de' })).toBeUndefined();
    expect(appearanceProblem({ autoHideSeconds: 5 })?.option).toBe('autoHideSeconds');
  });
});
