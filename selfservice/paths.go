package selfservice

// Paths of the hosted pages that more than one flow sends the citizen to.
// Each flow package mounts its own pages; app holds the one table of routes.
const (
	PathLogin            = "/login"
	PathConsent          = "/consent"
	PathLogoutConfirm    = "/logout/confirm"
	PathLogout           = "/logout"
	PathRegistration     = "/registration"
	PathRegistrationLink = "/registration/link"
	PathRecovery         = "/recovery"
	PathAccount          = "/account"
	PathOutbox           = "/dev/outbox"
	PathSecondFactor     = "/login/second-factor"
	PathLevel            = "/login/level"
	PathOffer            = "/login/offer"
	PathPassword         = "/settings/password"
	PathContacts         = "/settings/contacts"
	PathSecurity         = "/settings/security"
	PathEnroll           = "/settings/security/enroll"
	PathSessions         = "/settings/sessions"
	PathServices         = "/settings/services"
)
