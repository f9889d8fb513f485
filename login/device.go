package login

import (
	"context"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/session"
)

// deviceUAMaxSize bounds the device description in a new-device notice.
const deviceUAMaxSize = 120

// rememberDevice keeps the device the citizen signed in from and, when
// notice is set and the account has never been used from it, tells the
// owner. It returns the device id to hand back (cookie or device_token).
func (s *Service) rememberDevice(ctx context.Context, a *account.Account, id string, notice bool, m Meta) string {
	id, fresh, err := s.sessions.RememberDevice(ctx, a.ID, id)
	if err != nil {
		s.log.Error("login: remember device", "err", err)
		return id
	}
	if !fresh || !notice {
		return id
	}
	s.recordMeta(ctx, m, a.ID, "login.new_device", "", nil)
	// Where the notice goes is the citizen's choice (notification settings).
	s.notifyAccount(ctx, a, "login_new_device", m, map[string]string{
		"device": truncate(m.UserAgent, deviceUAMaxSize), "ip": m.IP,
		"time": s.o.Now().UTC().Format("02.01.2006 15:04 UTC"),
	})
	return id
}

var deviceName = session.DeviceName
