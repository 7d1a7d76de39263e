// The signed-in caller's token, kept per app in the browser's local storage.
//
// A token arrives in one of three ways: in the page's fragment (`#token=...`, the
// development sign-in link the demo prints), from the one-time-code sign-in of the
// onboarding module, or from the tenant's OpenID Connect provider (oidc.js). The
// fragment is removed at once, so the token never stays in the address bar or history.

const key = (app) => `loyalty.${app}.token`;

export function takeTokenFromLocation(app) {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (token) {
    localStorage.setItem(key(app), token);
    history.replaceState(null, "", location.pathname + location.search);
  }
}

export function token(app) {
  const value = localStorage.getItem(key(app));
  if (value && claims(value).exp * 1000 > Date.now()) return value;
  return null;
}

export function signIn(app, value) {
  localStorage.setItem(key(app), value);
}

export function signOut(app) {
  localStorage.removeItem(key(app));
}

// The token's claims, read without checking the signature (the API checks it).
export function claims(value) {
  try {
    const payload = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload));
  } catch {
    return { exp: 0 };
  }
}
