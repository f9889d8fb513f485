package login

import "github.com/gosid/gosid/selfservice"

// Code validity (the engine's, DESIGN.md "Decisions").
const (
	smsCodeTTL   = selfservice.SMSCodeTTL
	emailCodeTTL = selfservice.EmailCodeTTL
)

// channelOf is how a code reaches a contact of kind "phone" or "email".
func channelOf(kind string) string { return string(selfservice.ContactChannel(kind)) }
