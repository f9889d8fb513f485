// A relying party built on the stock npm openid-client (6.x) with its default
// settings, driven by TestOpenIDClient (app/rp_openid_client_test.go).
//
// Configuration comes in RP_CONFIG (JSON: issuer, clients). The citizen's
// browser is the Go test's: the script writes {"browse": url} on stdout and
// reads back, on stdin, the URL the browser ended at (the client's redirect
// URI, after sign-in and consent on gosid's hosted pages). Each check is
// reported as one line {"check": name, "ok": bool, "detail": string}; the
// last line is {"done": true}.
import * as readline from 'node:readline'
import * as client from 'openid-client'

const cfg = JSON.parse(process.env.RP_CONFIG)
const issuer = new URL(cfg.issuer)
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

async function browse(url) {
  send({ browse: url.href })
  const { value, done } = await lines.next()
  if (done) throw new Error('the test closed stdin')
  return new URL(value.trim())
}

let failed = 0
async function check(name, fn) {
  try {
    const detail = await fn()
    send({ check: name, ok: true, detail: String(detail ?? '') })
  } catch (err) {
    failed++
    let detail = err && err.stack ? err.stack : String(err)
    if (err && err.error) detail = `${err.error}: ${err.error_description ?? ''} ${detail}`
    if (err && err.cause) detail += ` cause: ${JSON.stringify(err.cause)}`
    send({ check: name, ok: false, detail })
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg)
}

const privateKey = {
  key: await crypto.subtle.importKey('jwk', cfg.clients.pkjwt.private_jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']),
  kid: cfg.clients.pkjwt.private_jwk.kid,
}

// code runs the authorization code flow with PKCE (and state and nonce
// unless the caller's params leave them out) through the browser.
async function code(config, { extra = {}, state = true, nonce = true, build = 'plain', redirect } = {}) {
  const verifier = client.randomPKCECodeVerifier()
  const params = {
    redirect_uri: redirect,
    scope: 'openid profile offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  }
  const checks = { pkceCodeVerifier: verifier, idTokenExpected: true }
  if (state) checks.expectedState = params.state = client.randomState()
  if (nonce) checks.expectedNonce = params.nonce = client.randomNonce()
  let url
  if (build === 'par') url = await client.buildAuthorizationUrlWithPAR(config, params)
  else if (build === 'jar') url = await client.buildAuthorizationUrlWithJAR(config, params, privateKey)
  else if (build === 'jar+par') {
    const jar = await client.buildAuthorizationUrlWithJAR(config, params, privateKey)
    url = await client.buildAuthorizationUrlWithPAR(config, jar.searchParams)
  } else url = client.buildAuthorizationUrl(config, params)
  const callback = await browse(url)
  const tokens = await client.authorizationCodeGrant(config, callback, checks)
  return { url, callback, tokens }
}

const web = cfg.clients.web
const basic = cfg.clients.basic
const pub = cfg.clients.public
const pk = cfg.clients.pkjwt

let webConfig, basicConfig, pubConfig, pkConfig
await check('discovery (OpenID Connect)', async () => {
  webConfig = await client.discovery(issuer, web.client_id, web.client_secret)
  const m = webConfig.serverMetadata()
  assert(m.issuer === cfg.issuer, `issuer ${m.issuer}`)
  return m.token_endpoint
})
await check('discovery (RFC 8414 authorization server metadata)', async () => {
  const c = await client.discovery(issuer, web.client_id, web.client_secret, undefined, { algorithm: 'oauth2' })
  assert(c.serverMetadata().issuer === cfg.issuer, 'issuer')
  assert(c.serverMetadata().authorization_response_iss_parameter_supported === true, 'RFC 9207 iss not advertised')
})
basicConfig = await client.discovery(issuer, basic.client_id, basic.client_secret, client.ClientSecretBasic(basic.client_secret))
pubConfig = await client.discovery(issuer, pub.client_id, undefined, client.None())
pkConfig = await client.discovery(issuer, pk.client_id, undefined, client.PrivateKeyJwt(privateKey))

let webTokens, webSub, webCallback
await check('code + PKCE, client_secret_post (the default)', async () => {
  const r = await code(webConfig, { redirect: web.redirect_uri })
  webTokens = r.tokens
  webCallback = r.callback
  const c = r.tokens.claims()
  webSub = c.sub
  assert(c.sub && c.aud === web.client_id || (Array.isArray(c.aud) && c.aud.includes(web.client_id)), `claims ${JSON.stringify(c)}`)
  assert(r.tokens.refresh_token, 'no refresh token')
  return `sub ${c.sub}`
})
await check('RFC 9207 iss in the authorization response', async () => {
  assert(webCallback.searchParams.get('iss') === cfg.issuer, `callback ${webCallback}`)
})
await check('id_token claims: auth_time, acr, amr, sid', async () => {
  const c = webTokens.claims()
  assert(typeof c.auth_time === 'number', 'auth_time')
  assert(c.acr, 'acr')
  assert(Array.isArray(c.amr), 'amr')
  assert(c.sid, 'sid')
  return `acr ${c.acr} amr ${c.amr}`
})
await check('userinfo', async () => {
  const info = await client.fetchUserInfo(webConfig, webTokens.access_token, webSub)
  assert(info.sub === webSub, 'sub')
  return JSON.stringify(info)
})
let refreshed
await check('refresh_token grant', async () => {
  refreshed = await client.refreshTokenGrant(webConfig, webTokens.refresh_token)
  assert(refreshed.access_token && refreshed.access_token !== webTokens.access_token, 'no new access token')
  assert(refreshed.refresh_token && refreshed.refresh_token !== webTokens.refresh_token, 'refresh token not rotated')
  assert(refreshed.claims() === undefined || refreshed.claims().sub === webSub, 'id_token of another subject')
})
await check('userinfo with the refreshed access token', async () => {
  const info = await client.fetchUserInfo(webConfig, refreshed.access_token, webSub)
  assert(info.sub === webSub, 'sub')
})
await check('introspection of the own access token', async () => {
  const r = await client.tokenIntrospection(webConfig, refreshed.access_token)
  assert(r.active === true && r.client_id === web.client_id && r.sub === webSub, JSON.stringify(r))
  return JSON.stringify({ active: r.active, scope: r.scope, token_type: r.token_type })
})
await check('introspection of the own refresh token', async () => {
  const r = await client.tokenIntrospection(webConfig, refreshed.refresh_token)
  assert(r.active === true && r.client_id === web.client_id, JSON.stringify(r))
  const at = await client.tokenIntrospection(webConfig, refreshed.access_token)
  // Issue #11 point 6: the refresh token's own expiry, not its access token's.
  assert(typeof r.exp === 'number' && r.exp > at.exp && r.token_type === 'refresh_token', `exp ${r.exp}, access token's ${at.exp}, ${JSON.stringify(r)}`)
  return `exp ${r.exp} (access token's ${at.exp})`
})
await check('introspection by another client says active:false', async () => {
  const r = await client.tokenIntrospection(basicConfig, refreshed.access_token)
  assert(r.active === false, JSON.stringify(r))
})
await check('revocation of the refresh token', async () => {
  await client.tokenRevocation(webConfig, refreshed.refresh_token)
  const r = await client.tokenIntrospection(webConfig, refreshed.refresh_token)
  assert(r.active === false, `still active: ${JSON.stringify(r)}`)
})
await check('revocation of the access token ends userinfo', async () => {
  await client.tokenRevocation(webConfig, refreshed.access_token)
  try {
    await client.fetchUserInfo(webConfig, refreshed.access_token, webSub)
  } catch (err) {
    assert(err.status === 401 || (err.cause && err.cause.status === 401) || /invalid_token/.test(String(err)) ||
      (err.response && err.response.status === 401), `unexpected ${err}`)
    return 'refused'
  }
  throw new Error('userinfo answered with a revoked access token')
})

await check('code + PKCE, client_secret_basic', async () => {
  const r = await code(basicConfig, { redirect: basic.redirect_uri })
  assert(r.tokens.claims().sub === webSub, 'sub')
})
await check('client_credentials, client_secret_basic', async () => {
  const t = await client.clientCredentialsGrant(basicConfig, { scope: basic.cc_scope })
  assert(t.access_token && !t.refresh_token && !t.id_token, JSON.stringify(t))
})

let pkTokens
await check('code + PKCE, private_key_jwt', async () => {
  const r = await code(pkConfig, { redirect: pk.redirect_uri })
  pkTokens = r.tokens
  assert(r.tokens.claims().sub === webSub, 'sub')
})
await check('refresh_token grant, private_key_jwt', async () => {
  const t = await client.refreshTokenGrant(pkConfig, pkTokens.refresh_token)
  assert(t.access_token, 'no access token')
})
await check('PAR (RFC 9126), private_key_jwt', async () => {
  const r = await code(pkConfig, { redirect: pk.redirect_uri, build: 'par' })
  assert(r.url.searchParams.get('request_uri'), `not a PAR URL: ${r.url}`)
  assert(r.tokens.claims().sub === webSub, 'sub')
})
await check('JAR (RFC 9101) request object', async () => {
  const r = await code(pkConfig, { redirect: pk.redirect_uri, build: 'jar' })
  assert(r.url.searchParams.get('request'), `not a JAR URL: ${r.url}`)
  assert(r.tokens.claims().sub === webSub, 'sub')
})
await check('JAR pushed with PAR', async () => {
  const r = await code(pkConfig, { redirect: pk.redirect_uri, build: 'jar+par' })
  assert(r.tokens.claims().sub === webSub, 'sub')
})

let pubTokens
await check('code + PKCE, public client', async () => {
  const r = await code(pubConfig, { redirect: pub.redirect_uri })
  pubTokens = r.tokens
  assert(r.tokens.claims().sub === webSub, 'sub')
})
await check('state-less PKCE (RFC 9700), public client', async () => {
  const r = await code(pubConfig, { redirect: pub.redirect_uri, state: false })
  assert(!r.callback.searchParams.has('state'), `state echoed: ${r.callback}`)
  assert(r.tokens.claims().sub === webSub, 'sub')
})
let pubRefreshed
await check('refresh_token grant, public client', async () => {
  pubRefreshed = await client.refreshTokenGrant(pubConfig, pubTokens.refresh_token)
  assert(pubRefreshed.access_token && pubRefreshed.refresh_token !== pubTokens.refresh_token, 'no rotated token')
})
// The test server has no grace window (RefreshGrace 0): a rotated-out
// refresh token presented again is a replay, refused, and takes the grant
// down (RFC 9700 §4.14.2).
await check('replayed rotated-out refresh token refused', async () => {
  try {
    await client.refreshTokenGrant(pubConfig, pubTokens.refresh_token)
  } catch (err) {
    assert(err.error === 'invalid_grant', `unexpected ${err}`)
    return 'invalid_grant'
  }
  throw new Error('a rotated-out refresh token was accepted')
})
await check('the replay revoked the grant', async () => {
  try {
    await client.refreshTokenGrant(pubConfig, pubRefreshed.refresh_token)
  } catch (err) {
    assert(err.error === 'invalid_grant', `unexpected ${err}`)
    return 'invalid_grant'
  }
  throw new Error('the successor still works after a replay')
})
await check('response_mode=query given explicitly', async () => {
  const r = await code(pubConfig, { redirect: pub.redirect_uri, extra: { response_mode: 'query' } })
  assert(r.tokens.access_token, 'no token')
})
await check('wrong PKCE verifier refused', async () => {
  const params = {
    redirect_uri: pub.redirect_uri, scope: 'openid', state: client.randomState(),
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  }
  const callback = await browse(client.buildAuthorizationUrl(pubConfig, params))
  try {
    await client.authorizationCodeGrant(pubConfig, callback, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: params.state })
  } catch (err) {
    assert(err.error === 'invalid_grant', `unexpected ${err}`)
    return 'invalid_grant'
  }
  throw new Error('a code was exchanged with the wrong verifier')
})

// DPoP (RFC 9449): gosid requires a server nonce in every proof, so each
// first request is answered use_dpop_nonce and openid-client retries with
// the nonce it was given.
let dpopTokens, dpop
await check('DPoP-bound tokens (RFC 9449), public client', async () => {
  dpop = client.getDPoPHandle(pubConfig, await client.randomDPoPKeyPair())
  const verifier = client.randomPKCECodeVerifier()
  const params = { redirect_uri: pub.redirect_uri, scope: 'openid profile offline_access', state: client.randomState(),
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }
  const callback = await browse(client.buildAuthorizationUrl(pubConfig, params))
  dpopTokens = await client.authorizationCodeGrant(pubConfig, callback, { pkceCodeVerifier: verifier, expectedState: params.state },
    undefined, { DPoP: dpop })
  assert(String(dpopTokens.token_type).toLowerCase() === 'dpop', `token_type ${dpopTokens.token_type}`)
})
await check('userinfo with a DPoP-bound access token', async () => {
  assert(dpopTokens && String(dpopTokens.token_type).toLowerCase() === 'dpop', 'no DPoP-bound token')
  const info = await client.fetchUserInfo(pubConfig, dpopTokens.access_token, webSub, { DPoP: dpop })
  assert(info.sub === webSub, 'sub')
})
await check('a DPoP-bound access token is refused as a Bearer token', async () => {
  try {
    await client.fetchUserInfo(pubConfig, dpopTokens.access_token, webSub)
  } catch (err) {
    assert(err.status === 401 || err.response?.status === 401 || /401|invalid_token/.test(String(err.message ?? err)), `unexpected ${err}`)
    return 'refused'
  }
  throw new Error('a DPoP-bound token was accepted without a proof')
})
await check('DPoP-bound refresh token refused with another key', async () => {
  const other = client.getDPoPHandle(pubConfig, await client.randomDPoPKeyPair())
  try {
    await client.refreshTokenGrant(pubConfig, dpopTokens.refresh_token, undefined, { DPoP: other })
  } catch (err) {
    assert(err.error === 'invalid_dpop_proof', `unexpected ${err.error ?? err}`)
    return err.error
  }
  throw new Error('a bound refresh token was accepted with another key')
})
await check('DPoP-bound refresh token refused without a proof', async () => {
  try {
    await client.refreshTokenGrant(pubConfig, dpopTokens.refresh_token)
  } catch (err) {
    assert(err.error === 'invalid_dpop_proof', `unexpected ${err.error ?? err}`)
    return err.error
  }
  throw new Error('a bound refresh token was accepted without a proof')
})
await check('DPoP refresh with the bound key', async () => {
  const r = await client.refreshTokenGrant(pubConfig, dpopTokens.refresh_token, undefined, { DPoP: dpop })
  assert(String(r.token_type).toLowerCase() === 'dpop' && r.access_token, `token_type ${r.token_type}`)
  const info = await client.fetchUserInfo(pubConfig, r.access_token, webSub, { DPoP: dpop })
  assert(info.sub === webSub, 'sub')
})
await check('client_credentials with DPoP, introspection shows cnf.jkt', async () => {
  const h = client.getDPoPHandle(basicConfig, await client.randomDPoPKeyPair())
  const t = await client.clientCredentialsGrant(basicConfig, { scope: basic.cc_scope }, { DPoP: h })
  assert(String(t.token_type).toLowerCase() === 'dpop', `token_type ${t.token_type}`)
  const r = await client.tokenIntrospection(basicConfig, t.access_token)
  assert(r.active && r.cnf && typeof r.cnf.jkt === 'string' && r.token_type === 'DPoP', `introspection ${JSON.stringify(r)}`)
})

await check('RP-initiated logout', async () => {
  const r = await code(webConfig, { redirect: web.redirect_uri })
  const state = client.randomState()
  const url = client.buildEndSessionUrl(webConfig, {
    id_token_hint: r.tokens.id_token, post_logout_redirect_uri: web.post_logout_redirect_uri, state,
  })
  const end = await browse(url)
  assert(end.href.startsWith(web.post_logout_redirect_uri) && end.searchParams.get('state') === state, `ended at ${end}`)
})
await check('after logout, prompt=none answers login_required', async () => {
  const params = { redirect_uri: pub.redirect_uri, scope: 'openid', prompt: 'none', state: client.randomState(),
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' }
  const callback = await browse(client.buildAuthorizationUrl(pubConfig, params))
  try {
    await client.authorizationCodeGrant(pubConfig, callback, { pkceCodeVerifier: 'x'.repeat(43), expectedState: params.state })
  } catch (err) {
    assert(err.error === 'login_required', `unexpected ${err.error ?? err}`)
    return 'login_required'
  }
  throw new Error('a code was issued without a session')
})

send({ done: true, failed })
lines.return?.()
process.exit(0)
