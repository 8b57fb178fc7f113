// Points the component's module loader at this package's browser entry (../browser.js loads
// ../mail2fa.wasm with streaming compile), instead of the glue next to the component.
import { Mail2faCore } from './mail2fa-ui.js';
import { init, qrSvg, otpauthParse } from '../browser.js';

Mail2faCore.load = async () => {
  await init();
  return { qrSvg, otpauthParse };
};
