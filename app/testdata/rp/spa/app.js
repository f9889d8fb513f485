// A single-page app on the stock oidc-client-ts (browser bundle), run in
// Chromium by TestOIDCClientTSInBrowser: a public client with PKCE that
// talks to gosid's token, userinfo and revocation endpoints across origins
// (CORS). Results go to localStorage under "checks"; window.__done is set
// when the journey is over.
const conf = JSON.parse(document.getElementById('conf').textContent)
const mgr = new oidc.UserManager({
  authority: conf.issuer,
  client_id: conf.client_id,
  redirect_uri: location.origin + '/callback',
  post_logout_redirect_uri: location.origin + '/bye',
  response_type: 'code',
  scope: 'openid profile offline_access',
  loadUserInfo: true,
  userStore: new oidc.WebStorageStateStore({ store: window.localStorage }),
})

function checks() { return JSON.parse(localStorage.getItem('checks') || '[]') }
function record(name, ok, detail) {
  const all = checks()
  all.push({ check: name, ok, detail: String(detail ?? '') })
  localStorage.setItem('checks', JSON.stringify(all))
}
async function check(name, fn) {
  try {
    record(name, true, await fn())
  } catch (err) {
    record(name, false, err && err.stack ? err.message + ' ' + err.stack : String(err))
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg) }

async function userinfoStatus(token) {
  const r = await fetch(conf.userinfo, { headers: { Authorization: 'Bearer ' + token } })
  return r.status
}

async function main() {
  switch (location.pathname) {
    case '/start':
      localStorage.clear()
      await mgr.signinRedirect()
      return
    case '/callback': {
      let user
      await check('signinRedirectCallback (code + PKCE, public client, token endpoint via CORS)', async () => {
        user = await mgr.signinRedirectCallback()
        assert(user.access_token && user.id_token && user.refresh_token, 'tokens missing')
        return 'sub ' + user.profile.sub
      })
      if (!user) break
      await check('userinfo loaded by the library (CORS)', async () => {
        assert(user.profile.given_name, 'no given_name from userinfo: ' + JSON.stringify(user.profile))
        return user.profile.given_name
      })
      let refreshed
      await check('signinSilent with the refresh token (CORS)', async () => {
        refreshed = await mgr.signinSilent()
        assert(refreshed.access_token && refreshed.access_token !== user.access_token, 'no new access token')
        assert(refreshed.refresh_token !== user.refresh_token, 'refresh token not rotated')
      })
      await check('userinfo with the refreshed access token, read across origins', async () => {
        const s = await userinfoStatus(refreshed.access_token)
        assert(s === 200, 'status ' + s)
      })
      await check('revokeTokens (RFC 7009 via CORS)', async () => {
        await mgr.revokeTokens()
        const s = await userinfoStatus(refreshed.access_token)
        assert(s === 401, 'userinfo after revocation: ' + s)
      })
      await mgr.signoutRedirect({ id_token_hint: refreshed.id_token, state: 'bye-state' })
      return
    }
    case '/bye':
      await check('signoutRedirect came back (RP-initiated logout)', async () => {
        const r = await mgr.signoutRedirectCallback()
        assert(r.userState === undefined || r.userState === null || r.userState === 'bye-state', 'state ' + JSON.stringify(r))
        const u = await mgr.getUser()
        assert(!u, 'the user is still stored')
      })
      break
    case '/foreign': {
      // A page on an origin no client registered.
      const out = {}
      for (const [name, url, init] of [
        ['discovery', conf.issuer + '/.well-known/openid-configuration'],
        ['jwks', conf.issuer + '/.well-known/jwks.json'],
        ['token', conf.issuer + '/oauth2/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x&client_id=' + conf.client_id }],
        ['userinfo', conf.userinfo, { headers: { Authorization: 'Bearer x' } }],
      ]) {
        try {
          const r = await fetch(url, init)
          out[name] = r.status
        } catch (err) {
          out[name] = 'blocked'
        }
      }
      window.__done = JSON.stringify(out)
      return
    }
  }
  window.__done = JSON.stringify(checks())
}
main().catch((err) => {
  record('unexpected error', false, err && err.stack ? err.stack : String(err))
  window.__done = JSON.stringify(checks())
})
