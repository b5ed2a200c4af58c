// Types of MiniLogin's browser SDK (/sdk/minilogin.js), which sets `window.MiniLogin`.

export interface MiniLoginAccount {
  /** The name of the account this scan logs in to; null for a first-time user. */
  nickname: string | null;
  /** Its picture (a PNG data URL or a WeChat avatar URL), or null. */
  avatar: string | null;
}

export interface MiniLoginSuccess {
  /** The single-use authorization code (60 s): exchange it at /oauth/token from your server. */
  code: string;
  /** The `state` of this attempt (yours, or the one the SDK made); checked already. */
  state: string;
  /** The PKCE verifier the SDK made, or undefined when you passed `codeChallenge`. */
  codeVerifier?: string;
}

export interface MiniLoginError {
  /** A stable code: an RFC 6749 error, a ticket API code, "state_mismatch",
   *  "popup_blocked", "network_error" or the ticket's failure reason. */
  error: string;
  description: string;
}

export interface MiniLoginOptions {
  /** MiniLogin's public URL (its origin checks every message), e.g. "https://login.example.com". */
  issuer: string;
  clientId: string;
  /** One of the app's registered redirect URIs, exactly. */
  redirectUri: string;
  /** "embedded" (default): the QR in `container`; "popup": the hosted page in a window;
   *  "redirect": the hosted page in this window. */
  mode?: "embedded" | "popup" | "redirect";
  /** Embedded mode: the element (or a selector) the QR, its status and buttons go into. */
  container?: Element | string;
  /** Your own PKCE challenge (S256) and state; otherwise the SDK makes them. */
  codeChallenge?: string;
  state?: string;
  nonce?: string;
  /** Default "openid profile phone". */
  scope?: string;
  connection?: string;
  /** "zh" or "en"; default from the browser. */
  lang?: string;
  /** Start a new QR code when one expires (default true). */
  autoRefresh?: boolean;
  /** Milliseconds between status requests when the WebSocket is unavailable (default 2000). */
  pollInterval?: number;
  /** Offer "Open in WeChat" (the same-device path); default: on phone-sized phone screens. */
  sameDevice?: boolean;
  onReady?(info: { ticket?: string; expiresAt?: number; qr?: string; popup?: Window }): void;
  /** On the scan, with nulls; again a moment later when the scanner is a returning user
   *  whose account MiniLogin knows (its name and picture, never what the phone claims). */
  onScanned?(account: MiniLoginAccount): void;
  onCancelled?(info: { reason: "cancelled_on_phone" | "access_denied" | "popup_closed" }): void;
  onExpired?(info: { refreshing: boolean }): void;
  onSuccess?(result: MiniLoginSuccess): void;
  onError?(error: MiniLoginError): void;
}

export interface MiniLoginInstance {
  /** Show a QR code (embedded), open the popup or go to the hosted page. Call it from a click
   *  handler in popup mode, or the browser may block the window. */
  start(): Promise<void>;
  /** Embedded mode: a new QR code now. */
  refresh(): Promise<void>;
  /** Embedded mode: ask WeChat for a link to this login and open it (same device). */
  openInWeChat(): Promise<void>;
  /** Whether the same-device button is offered on this screen. */
  sameDevice(): boolean;
  /** Stop listening; close the popup if it is open. */
  close(): void;
}

export interface MiniLoginStatic {
  (options: MiniLoginOptions): MiniLoginInstance;
  new (options: MiniLoginOptions): MiniLoginInstance;
  /** Redirect mode: the PKCE verifier the SDK kept for `state` (read once), or null. */
  verifier(state: string): string | null;
  readonly version: string;
}

declare global {
  interface Window {
    MiniLogin: MiniLoginStatic;
  }
  const MiniLogin: MiniLoginStatic;
}
