package provider

import "errors"

// ErrTokenInactive is returned by GrantStore.UseRefreshToken for a token that
// was already used outside the grace window or whose grant was revoked.
var ErrTokenInactive = errors.New("provider: token inactive")
