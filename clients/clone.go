package clients

import "slices"

// Clone returns a deep copy of c. Clients handed out by Cache are shared
// between goroutines and must not be modified: clone one before changing it.
func (c *Client) Clone() *Client {
	if c == nil {
		return nil
	}
	d := *c
	d.SecretHash = slices.Clone(c.SecretHash)
	d.RedirectURIs = slices.Clone(c.RedirectURIs)
	d.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	d.GrantTypes = slices.Clone(c.GrantTypes)
	d.ResponseTypes = slices.Clone(c.ResponseTypes)
	d.Scopes = slices.Clone(c.Scopes)
	d.Audience = slices.Clone(c.Audience)
	d.JWKS = slices.Clone(c.JWKS)
	d.AllowedCORSOrigins = slices.Clone(c.AllowedCORSOrigins)
	return &d
}
