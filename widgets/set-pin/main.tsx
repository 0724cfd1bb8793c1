import '../ui/styles.css';
import { boot } from '../runtime/boot.js';
import { SetPinApp } from './SetPinApp.js';

void boot('set-pin', SetPinApp);
