// Package config loads gosid's settings: safe single-machine defaults, then an
// optional YAML file, then GOSID_* environment variables (the environment
// wins). Every setting has an environment form, named in its `env` tag.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the zone loads where the system has no zoneinfo

	"gopkg.in/yaml.v3"

	"github.com/gosid/gosid/federation"
)

// Config is the whole configuration.
type Config struct {
	// Addr is the listen address.
	Addr string `yaml:"addr" env:"GOSID_ADDR"`
	// AdminAddr is the operator listener (/metrics, /healthz, /readyz), apart
	// from the citizen-facing Addr; "off" disables it. Keep it on loopback
	// or a private network: /metrics is never served on Addr.
	AdminAddr string `yaml:"admin_addr" env:"GOSID_ADMIN_ADDR"`
	// Issuer is the public base URL; it appears in tokens and discovery.
	Issuer string `yaml:"issuer" env:"GOSID_ISSUER"`
	// DataDir holds the embedded database when DatabaseURL is empty.
	DataDir string `yaml:"data_dir" env:"GOSID_DATA_DIR"`
	// DatabaseURL selects PostgreSQL (postgres://...); empty means embedded SQLite.
	DatabaseURL string `yaml:"database_url" env:"GOSID_DATABASE_URL"`
	// RedisURL selects Redis for short-lived state; empty keeps it in the database.
	RedisURL string `yaml:"redis_url" env:"GOSID_REDIS_URL"`
	// RedisPrefix is prepended to every Redis key.
	RedisPrefix string `yaml:"redis_prefix" env:"GOSID_REDIS_PREFIX"`
	// MasterKey (32 bytes, base64 or hex) encrypts signing keys and PII at rest.
	MasterKey string `yaml:"master_key" env:"GOSID_MASTER_KEY"`
	// Dev enables development mode: the development master key is allowed (with
	// a warning) and development pages exist.
	Dev bool `yaml:"dev" env:"GOSID_DEV"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level" env:"GOSID_LOG_LEVEL"`
	// Timezone is the IANA zone in which pages and notices show times
	// (default Europe/Moscow: «11:12 МСК»).
	Timezone string `yaml:"timezone" env:"GOSID_TIMEZONE"`
	// TLSCert and TLSKey make gosid terminate TLS itself (1.2 minimum).
	TLSCert string `yaml:"tls_cert" env:"GOSID_TLS_CERT"`
	TLSKey  string `yaml:"tls_key" env:"GOSID_TLS_KEY"`
	// TrustedProxies lists proxy addresses (CIDR) whose X-Forwarded-For is believed.
	TrustedProxies []string `yaml:"trusted_proxies" env:"GOSID_TRUSTED_PROXIES"`
	// Migrate applies migrations when serve starts.
	Migrate bool `yaml:"migrate" env:"GOSID_MIGRATE"`

	AccessTokenTTL  time.Duration `yaml:"access_token_ttl" env:"GOSID_ACCESS_TOKEN_TTL"`
	RefreshTokenTTL time.Duration `yaml:"refresh_token_ttl" env:"GOSID_REFRESH_TOKEN_TTL"`
	IDTokenTTL      time.Duration `yaml:"id_token_ttl" env:"GOSID_ID_TOKEN_TTL"`
	AuthCodeTTL     time.Duration `yaml:"auth_code_ttl" env:"GOSID_AUTH_CODE_TTL"`
	// RefreshGrace is how long a rotated refresh token still works, for
	// concurrent refreshes; reuse after it revokes the whole grant.
	RefreshGrace time.Duration `yaml:"refresh_grace" env:"GOSID_REFRESH_GRACE"`
	// ESIATimestampWindow is how far the timestamp of an ESIA-style
	// client's signed request may be from gosid's clock, either way (#16).
	ESIATimestampWindow time.Duration `yaml:"esia_timestamp_window" env:"GOSID_ESIA_TIMESTAMP_WINDOW"`
	// SessionTTL is the lifetime of a sign-in (SSO) session.
	SessionTTL time.Duration `yaml:"session_ttl" env:"GOSID_SESSION_TTL"`
	// FlowTTL is how long a sign-in or consent page stays valid.
	FlowTTL time.Duration `yaml:"flow_ttl" env:"GOSID_FLOW_TTL"`
	// KeyRetireAfter keeps a retired signing key published this long.
	KeyRetireAfter time.Duration `yaml:"key_retire_after" env:"GOSID_KEY_RETIRE_AFTER"`

	// FetchAllowPrivate lets request_uri and jwks_uri fetches reach loopback
	// and private addresses (tests and closed networks only).
	FetchAllowPrivate bool `yaml:"fetch_allow_private" env:"GOSID_FETCH_ALLOW_PRIVATE"`
	// FetchTimeout and FetchMaxBytes cap those fetches.
	FetchTimeout  time.Duration `yaml:"fetch_timeout" env:"GOSID_FETCH_TIMEOUT"`
	FetchMaxBytes int64         `yaml:"fetch_max_bytes" env:"GOSID_FETCH_MAX_BYTES"`

	// MaxBodyBytes limits every request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes" env:"GOSID_MAX_BODY_BYTES"`
	// RequireMFA makes a second factor mandatory at every sign-in (seed 004:
	// "password and a one-time code sent to the confirmed phone or e-mail").
	// Accounts without a factor of their own get a code by SMS or e-mail.
	RequireMFA bool `yaml:"require_mfa" env:"GOSID_REQUIRE_MFA"`
	// GeoIPDB is a MaxMind-format city database (GeoLite2-City or
	// compatible); when set, the sessions list shows an approximate place.
	GeoIPDB string `yaml:"geoip_db" env:"GOSID_GEOIP_DB"`
	// RegistryURL is the state registries' gateway (registry package wire
	// format). Empty: in development mode gosid runs the reference registry
	// in-process; otherwise identity checks are unavailable.
	RegistryURL string `yaml:"registry_url" env:"GOSID_REGISTRY_URL"`
	// RegistryCert and RegistryKey are the client certificate for mutual
	// TLS with the gateway; RegistryCA its CA (system roots when empty).
	RegistryCert    string        `yaml:"registry_cert" env:"GOSID_REGISTRY_CERT"`
	RegistryKey     string        `yaml:"registry_key" env:"GOSID_REGISTRY_KEY"`
	RegistryCA      string        `yaml:"registry_ca" env:"GOSID_REGISTRY_CA"`
	RegistryTimeout time.Duration `yaml:"registry_timeout" env:"GOSID_REGISTRY_TIMEOUT"`
	// PreviousMasterKeys are master keys being rotated out: personal-data
	// keys wrapped under them still open until `gosid pii rewrap` re-wraps
	// them under MasterKey.
	PreviousMasterKeys []string `yaml:"previous_master_keys" env:"GOSID_PREVIOUS_MASTER_KEYS"`
	// Banks are the partner banks, upstream OpenID providers (YAML only:
	// README "Partner banks"); a bank's secret may come from the
	// environment as GOSID_BANK_<ID>_CLIENT_SECRET.
	Banks []federation.Bank `yaml:"banks"`
	// ESignRootsDir is a directory of the trusted (accredited)
	// certification authorities' certificates, PEM or DER; ESignRoots
	// lists more files. With neither, no electronic signature is trusted.
	ESignRootsDir string   `yaml:"esign_roots_dir" env:"GOSID_ESIGN_ROOTS_DIR"`
	ESignRoots    []string `yaml:"esign_roots" env:"GOSID_ESIGN_ROOTS"`
	// DevBank runs the built-in development bank (fictional persons) in
	// development mode; on by default there.
	DevBank bool `yaml:"dev_bank" env:"GOSID_DEV_BANK"`
	// JobRetryBase scales the backoff between retries of background jobs
	// (delivery, identity checks): attempt⁴ × base, at most a day; 1s gives
	// 1 s, 16 s, 81 s, 4 min, ...
	JobRetryBase time.Duration `yaml:"job_retry_base" env:"GOSID_JOB_RETRY_BASE"`
	// JobRescueAfter is when a background job whose node died mid-run is
	// run again by another node.
	JobRescueAfter time.Duration `yaml:"job_rescue_after" env:"GOSID_JOB_RESCUE_AFTER"`
	// DeliveryRescueAfter is when a message delivery whose node died is run
	// again: seconds, well inside a one-time code's validity.
	DeliveryRescueAfter time.Duration `yaml:"delivery_rescue_after" env:"GOSID_DELIVERY_RESCUE_AFTER"`
	// ShutdownDelay is how long a node told to stop (SIGTERM) keeps serving
	// while /readyz already answers 503, so that a load balancer takes it
	// out of rotation before it stops accepting connections; then it drains
	// the requests in flight.
	ShutdownDelay time.Duration `yaml:"shutdown_delay" env:"GOSID_SHUTDOWN_DELAY"`
	// LoginRatePerIP is how many password attempts one IP may make a minute.
	LoginRatePerIP int `yaml:"login_rate_per_ip" env:"GOSID_LOGIN_RATE_PER_IP"`
	// PasswordHashConcurrency bounds parallel argon2id computations (0: 2×CPUs).
	PasswordHashConcurrency int `yaml:"password_hash_concurrency" env:"GOSID_PASSWORD_HASH_CONCURRENCY"`

	// SMTP delivers e-mail; without SMTPHost e-mail goes only to the dev outbox.
	SMTPHost     string `yaml:"smtp_host" env:"GOSID_SMTP_HOST"`
	SMTPPort     int    `yaml:"smtp_port" env:"GOSID_SMTP_PORT"`
	SMTPUsername string `yaml:"smtp_username" env:"GOSID_SMTP_USERNAME"`
	SMTPPassword string `yaml:"smtp_password" env:"GOSID_SMTP_PASSWORD"`
	SMTPFrom     string `yaml:"smtp_from" env:"GOSID_SMTP_FROM"`
	// SMTPTLS is starttls (mandatory, default), opportunistic, tls (implicit) or none.
	SMTPTLS string `yaml:"smtp_tls" env:"GOSID_SMTP_TLS"`

	// SMSURL is the SMS operator's HTTP/JSON endpoint; without it SMS goes
	// only to the dev outbox.
	SMSURL    string `yaml:"sms_url" env:"GOSID_SMS_URL"`
	SMSToken  string `yaml:"sms_token" env:"GOSID_SMS_TOKEN"`
	SMSSender string `yaml:"sms_sender" env:"GOSID_SMS_SENDER"`
}

// Default returns the single-machine defaults.
func Default() Config {
	return Config{
		Addr:                ":8080",
		AdminAddr:           "127.0.0.1:9090",
		Issuer:              "http://localhost:8080",
		DataDir:             "data",
		RedisPrefix:         "gosid:",
		LogLevel:            "info",
		Timezone:            "Europe/Moscow",
		Migrate:             true,
		AccessTokenTTL:      10 * time.Minute,
		RefreshTokenTTL:     30 * 24 * time.Hour,
		IDTokenTTL:          time.Hour,
		AuthCodeTTL:         5 * time.Minute,
		RefreshGrace:        10 * time.Second,
		ESIATimestampWindow: 5 * time.Minute,
		SessionTTL:          12 * time.Hour,
		FlowTTL:             30 * time.Minute,
		KeyRetireAfter:      48 * time.Hour,
		FetchTimeout:        5 * time.Second,
		FetchMaxBytes:       256 << 10,
		MaxBodyBytes:        64 << 10,
		LoginRatePerIP:      30,
		RegistryTimeout:     20 * time.Second,
		JobRescueAfter:      10 * time.Minute,
		DeliveryRescueAfter: 30 * time.Second,
		JobRetryBase:        time.Second,
		SMTPPort:            587,
		SMTPFrom:            "gosid <no-reply@localhost>",
		SMTPTLS:             "starttls",
		SMSSender:           "gosid",
		DevBank:             true,
	}
}

// Load reads defaults, then the YAML file at path (if not empty), then the
// environment, and validates the result.
func Load(path string, env func(string) (string, bool)) (Config, error) {
	c := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: read %s: %w", path, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config: parse %s: %w", path, err)
		}
	}
	if env == nil {
		env = os.LookupEnv
	}
	if err := applyEnv(&c, env); err != nil {
		return c, err
	}
	for i := range c.Banks {
		name := "GOSID_BANK_" + strings.ToUpper(strings.ReplaceAll(c.Banks[i].ID, "-", "_")) + "_CLIENT_SECRET"
		if v, ok := env(name); ok && strings.TrimSpace(v) != "" {
			c.Banks[i].ClientSecret = strings.TrimSpace(v)
		}
	}
	return c, c.Validate()
}

func applyEnv(c *Config, env func(string) (string, bool)) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("env")
		raw, ok := env(name)
		// An empty variable counts as unset (compose files and shells often
		// pass VAR= for "no value").
		if name == "" || !ok || strings.TrimSpace(raw) == "" {
			continue
		}
		if err := setField(v.Field(i), strings.TrimSpace(raw)); err != nil {
			return fmt.Errorf("config: %s: %w", name, err)
		}
	}
	return nil
}

func setField(f reflect.Value, raw string) error {
	switch f.Interface().(type) {
	case string:
		f.SetString(raw)
	case bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", raw)
		}
		f.SetBool(b)
	case int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("want an integer, got %q", raw)
		}
		f.SetInt(int64(n))
	case int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer, got %q", raw)
		}
		f.SetInt(n)
	case time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("want a duration like 10m, got %q", raw)
		}
		f.SetInt(int64(d))
	case []string:
		var list []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		f.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("unsupported setting type %s", f.Type())
	}
	return nil
}

// Validate checks the settings that would otherwise fail late or unsafely.
func (c Config) Validate() error {
	if _, err := c.Location(); err != nil {
		return err
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("config: issuer %q must be an absolute http(s) URL without query or fragment", c.Issuer)
	}
	if u.Scheme == "http" && !c.Dev && !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("config: issuer %q must use https outside development mode (set GOSID_DEV=true for local testing)", c.Issuer)
	}
	if c.AdminAddr == "" {
		return errors.New(`config: admin_addr must be a listen address or "off"`)
	}
	if c.AdminEnabled() && c.AdminAddr == c.Addr {
		return errors.New("config: admin_addr must differ from addr (operator endpoints are not for citizens)")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("config: tls_cert and tls_key must be set together")
	}
	for name, d := range map[string]time.Duration{
		"access_token_ttl": c.AccessTokenTTL, "refresh_token_ttl": c.RefreshTokenTTL,
		"id_token_ttl": c.IDTokenTTL, "auth_code_ttl": c.AuthCodeTTL, "session_ttl": c.SessionTTL,
		"flow_ttl": c.FlowTTL, "esia_timestamp_window": c.ESIATimestampWindow, "key_retire_after": c.KeyRetireAfter, "fetch_timeout": c.FetchTimeout,
	} {
		if d <= 0 {
			return fmt.Errorf("config: %s must be positive", name)
		}
	}
	if c.KeyRetireAfter < c.AccessTokenTTL || c.KeyRetireAfter < c.IDTokenTTL {
		return errors.New("config: key_retire_after must be at least the access and id token lifetimes")
	}
	if c.ShutdownDelay < 0 || c.ShutdownDelay > time.Minute {
		return errors.New("config: shutdown_delay must be between 0 and 1m")
	}
	if c.RefreshGrace < 0 || c.RefreshGrace > time.Minute {
		return errors.New("config: refresh_grace must be between 0 and 1m")
	}
	if c.MaxBodyBytes < 4096 {
		return errors.New("config: max_body_bytes must be at least 4096")
	}
	switch c.SMTPTLS {
	case "starttls", "opportunistic", "tls", "none":
	default:
		return fmt.Errorf("config: smtp_tls must be starttls, opportunistic, tls or none, got %q", c.SMTPTLS)
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("config: database_url must be a postgres:// URL")
	}
	return nil
}

// AdminEnabled reports whether the operator listener runs.
func (c Config) AdminEnabled() bool { return c.AdminAddr != "off" }

// Secure reports whether the issuer is served over HTTPS (cookies get the
// Secure flag and the __Host- prefix).
func (c Config) Secure() bool { return strings.HasPrefix(c.Issuer, "https://") }

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasSuffix(h, ".localhost")
}

// Location is the zone of Timezone (Europe/Moscow when empty).
func (c Config) Location() (*time.Location, error) {
	name := c.Timezone
	if name == "" {
		name = "Europe/Moscow"
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("config: timezone %q: %w", c.Timezone, err)
	}
	return loc, nil
}
