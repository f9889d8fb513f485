package signin

// KindLogin is the API's sign-in flow (the pages sign in with a plain form
// bound to the authorization request).
const KindLogin = "login"
