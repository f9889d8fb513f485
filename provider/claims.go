package provider

import (
	"context"
	"errors"
	"maps"
	"strings"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/storage"
)

// AccountClaims maps scopes to claims about an account (OpenID Connect Core
// §5.4). A contact is released as verified only when it was confirmed.
// Clients (client_credentials subjects) have no claims.
func AccountClaims(store account.Store) ClaimsFunc {
	return func(ctx context.Context, subject string, scopes []string) (map[string]any, error) {
		a, err := store.GetAccount(ctx, subject)
		if errors.Is(err, storage.ErrNotFound) {
			return map[string]any{}, nil
		} else if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for _, s := range scopes {
			switch s {
			case "profile":
				setNonEmpty(out, "family_name", a.FamilyName)
				setNonEmpty(out, "given_name", a.GivenName)
				setNonEmpty(out, "middle_name", a.MiddleName)
				setNonEmpty(out, "name", strings.Join(nonEmpty(a.FamilyName, a.GivenName, a.MiddleName), " "))
				setNonEmpty(out, "locale", a.Locale)
				out["updated_at"] = a.UpdatedAt.Unix()
			case "email":
				if a.Email != "" {
					out["email"] = a.Email
					out["email_verified"] = a.EmailVerified
				}
			case "phone":
				if a.Phone != "" {
					out["phone_number"] = a.Phone
					out["phone_number_verified"] = a.PhoneVerified
				}
			}
		}
		return out, nil
	}
}

// Claims composes claim sources, each releasing what the scopes allow of
// the data it owns (the account's contacts, the verified personal data):
// their claims are merged in order.
func Claims(sources ...ClaimsFunc) ClaimsFunc {
	return func(ctx context.Context, subject string, scopes []string) (map[string]any, error) {
		out := map[string]any{}
		for _, src := range sources {
			claims, err := src(ctx, subject, scopes)
			if err != nil {
				return nil, err
			}
			maps.Copy(out, claims)
		}
		return out, nil
	}
}

func setNonEmpty(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func nonEmpty(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
