import '../ui/styles.css';
import { boot } from '../runtime/boot.js';
import { EnrollPasskeyApp } from './EnrollPasskeyApp.js';

void boot('enroll-passkey', EnrollPasskeyApp);
