package selfservice

import (
	"context"
	"errors"
	"fmt"

	"github.com/gosid/gosid/account"
)

// ErrBadSetting means a setting was given a value it does not take.
var ErrBadSetting = errors.New("selfservice: unknown setting value")

// SetLoginNotice sets where sign-in notices go (the "login" event of the
// notification settings): all, phone, email or none.
func (e *Engine) SetLoginNotice(ctx context.Context, accountID, value string) error {
	if !account.ParseNotifyPrefs("").SetLoginNotice(value) {
		return ErrBadSetting
	}
	_, err := e.Accounts.UpdateAccount(ctx, accountID, func(a *account.Account) error {
		prefs := account.ParseNotifyPrefs(a.NotifyPrefs)
		prefs.SetLoginNotice(value)
		a.NotifyPrefs, a.UpdatedAt = prefs.String(), e.Now().UTC()
		return nil
	})
	if err != nil {
		return fmt.Errorf("set login notice: %w", err)
	}
	return nil
}
