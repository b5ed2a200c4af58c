// MiniLogin: the whole mini program is the login page; see pages/login.
const { watchForUpdates } = require('./lib/update');
const { pickLanguage } = require('./lib/i18n');
const config = require('./config');

App({
  onLaunch() {
    // A newer published version is downloaded in the background; it is applied only
    // between logins and after the user agrees (lib/update.js), never mid-login.
    this.updates = watchForUpdates({ wx: wx, lang: pickLanguage(wx, config) });
  },
});
