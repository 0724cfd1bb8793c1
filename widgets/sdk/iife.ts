/**
 * The one-script-tag build (`pin-widgets.iife.js`, global `PinWidgets`): the core and the
 * custom elements together. ES module pages import the core and, if they want the elements,
 * `pin-widgets-elements.js`, so a page that mounts by code loads only the core.
 */
import './elements.js';

export * from './index.js';
