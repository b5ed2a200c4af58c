// MiniLogin mini program: the ONE file an operator edits before uploading.
// (The AppID itself goes into project.config.json; see README.md.)
// Needs WeChat base library 2.21.2 or later (chooseAvatar, the nickname input, phone
// codes): set that minimum in mp.weixin.qq.com too; older phones are asked to update.
module.exports = {
  // Base URL of your scan-gateway.  Its host must be in the mini program's
  // "request legal domains" (mp.weixin.qq.com > Development > Server domain).
  gatewayBaseUrl: 'https://login.example.com',

  // URL prefixes of the ordinary-link QR codes ("url" QR kind) this mini
  // program accepts: exactly what you register under "Scan ordinary link QR
  // codes".  A QR whose URL does not start with one of them is refused.
  qrUrlPrefixes: ['https://login.example.com/q/'],

  // Local development only: accept http:// gateway and QR URLs.  WeChat
  // itself refuses plain http outside the developer tools; keep false.
  allowInsecureHttp: false,

  // wx.request / wx.login timeout, milliseconds (1000 - 60000).
  requestTimeoutMs: 10000,

  // 'auto' follows WeChat's language; or force 'zh' / 'en'.
  language: 'auto',

  brand: {
    name: 'MiniLogin', // shown on the page header
    nameZh: '扫码登录', // used when the phone is in Chinese; '' = use name
    color: '#07c160', // primary button colour
    logo: '', // e.g. '/images/logo.png' (a file you add to the package); '' = none
  },

  profile: {
    // Offer <input type="nickname"> (optional for the user).
    nickname: true,
    // Offer <button open-type="chooseAvatar">.  The chosen avatar is a local
    // temporary file, so it is uploaded first: set this to your scan-gateway's
    // '<gatewayBaseUrl>/mp/v1/avatar' (multipart field "avatar", form fields
    // ticket and session), which answers with a cleaned 96 px picture; that is
    // sent as avatar_url. scan-gateway refuses any other picture URL.
    // '' = do not offer the avatar picker.
    avatarUploadUrl: '',
  },
};
