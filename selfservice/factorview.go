package selfservice

import "time"

// FactorView is a second factor that is on, as the security settings, the
// API and the export of a citizen's data show it.
type FactorView struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name,omitempty"`
	Contact    string     `json:"contact,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}
