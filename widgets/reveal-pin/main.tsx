import '../ui/styles.css';
import { boot } from '../runtime/boot.js';
import { RevealPinApp } from './RevealPinApp.js';

void boot('reveal-pin', RevealPinApp);
