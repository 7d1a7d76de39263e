// Sign-in with the tenant's OpenID Connect provider: the authorization code flow with PKCE,
// as a public client (no secret in the browser). The provider's ID token, whose claims name
// the role, tenant and member as the gateway's settings say, is the Bearer credential.

const STATE = "loyalty.oidc";

async function discover(issuer) {
  const response = await fetch(issuer.replace(/\/$/, "") + "/.well-known/openid-configuration");
  if (!response.ok) throw new Error(`OpenID configuration: HTTP ${response.status}`);
  return response.json();
}

function random(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function redirectUri() {
  return location.origin + location.pathname;
}

export async function startSignIn(oidc) {
  const provider = await discover(oidc.issuer);
  const verifier = random(32);
  const state = random(16);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(STATE, JSON.stringify({ verifier, state }));
  const url = new URL(provider.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: oidc.clientId,
    redirect_uri: redirectUri(),
    scope: "openid profile",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(url.href);
}

// On the way back from the provider: the ID token for the code in the address, or null.
export async function finishSignIn(oidc) {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  const saved = JSON.parse(sessionStorage.getItem(STATE) ?? "null");
  if (!oidc || !code || !saved || params.get("state") !== saved.state) return null;
  sessionStorage.removeItem(STATE);
  history.replaceState(null, "", location.pathname);
  const provider = await discover(oidc.issuer);
  const response = await fetch(provider.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(),
      client_id: oidc.clientId,
      code_verifier: saved.verifier,
    }),
  });
  if (!response.ok) throw new Error(`Token endpoint: HTTP ${response.status}`);
  return (await response.json()).id_token ?? null;
}
