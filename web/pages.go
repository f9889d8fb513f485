package web

// Page is embedded in every page's data.
type Page struct {
	Lang string // "ru" | "en"; set by Render if empty
	CSRF string // hidden csrf_token value
	Dev  bool   // dev mode banner + link to the dev outbox
	// AltLangURL is the URL of this page in the other language; Render
	// fills it from the request if empty.
	AltLangURL string
	// FrameSrc are the origins the page's iframes load (front-channel
	// logout); the page's Content-Security-Policy allows exactly them.
	FrameSrc []string
}

// basePage gives Render the embedded Page of any page data.
func (p *Page) basePage() *Page { return p }

// LoginData is the sign-in page: login (phone, e-mail or SNILS) + password.
type LoginData struct {
	Page
	FlowID string
	// Login echoes what the citizen typed (never the password).
	Login string
	// ErrorKey is the translation key of a form-level error, e.g.
	// "login.error.invalid", "login.error.locked", "flow.error.expired".
	ErrorKey string
	// ClientName is the relying service that asked, shown as "to continue
	// to {ClientName}".
	ClientName string
	// ForgotURL is the «Забыли пароль?» link; hidden when empty.
	ForgotURL string
	// RegisterURL is the «Зарегистрироваться» link; hidden when empty.
	RegisterURL string
	// BankURL is the «Войти через банк» link; hidden when empty (no
	// partner bank is configured).
	BankURL string
	// ESignURL is the «Войти с электронной подписью» link; hidden when
	// empty (no trusted certification authority is configured).
	ESignURL string
}

// ConsentData is the page that asks to share data with a relying service.
type ConsentData struct {
	Page
	FlowID     string
	ClientName string
	Scopes     []ScopeItem
	// Claims are the claims the service asks for one by one, beyond its
	// scopes.
	Claims []ClaimItem
}

// ClaimItem is one claim asked for on its own, on the consent page.
type ClaimItem struct {
	Name      string // consent item, e.g. "claim:given_name"
	LabelKey  string // translation key, e.g. "claim.given_name"
	Essential bool   // the service says it cannot work without it
	Purpose   string // the service's reason, in its own words
}

// ScopeItem is one requested scope on the consent page.
type ScopeItem struct {
	Name     string // scope value, e.g. "openid", "profile", "email", "phone", "offline_access"
	TitleKey string // translation key, e.g. "scope.profile.title"
	DescKey  string // translation key, e.g. "scope.profile.desc"
}

// LogoutData asks the citizen to confirm signing out (RP-initiated logout
// without an id_token_hint of the current session).
type LogoutData struct {
	Page
	FlowID     string
	ClientName string
	// OtherSession: the service's id_token names a session other than the
	// current one (an earlier sign-in).
	OtherSession bool
}

// MessageData is a simple titled message page (signed out; generic info).
type MessageData struct {
	Page
	TitleKey   string
	MessageKey string
	// LinkURL and LinkKey make the page's one link; without LinkURL the
	// page links to the personal account.
	LinkURL string
	LinkKey string
	// Frames are front-channel logout URLs (OpenID Connect Front-Channel
	// Logout 1.0), each loaded in a hidden iframe; Page.FrameSrc must list
	// their origins.
	Frames []string
}

// ErrorData is the error page.
type ErrorData struct {
	Page
	TitleKey   string
	MessageKey string
	// RetryURL is the "start again" link; hidden when empty.
	RetryURL string
	// Detail is technical detail for support (e.g. OAuth error code and
	// description), shown small.
	Detail string
}

// HomeData is the start page at /: what gosid is, sign in, register.
type HomeData struct {
	Page
}
