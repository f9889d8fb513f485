package provider

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/gosid/gosid/storage"
)

// DPoP (RFC 9449). fosite v0.49 has no DPoP support, so gosid checks
// proofs itself, with go-jose for the JWS and the JWK thumbprint:
//
//   - a proof is a JWS of typ dpop+jwt, signed with an asymmetric
//     algorithm (dpopAlgs) by the public key in its jwk header;
//   - htm and htu name the request (htu without query and fragment), iat
//     is recent, jti is used once (the short-lived store remembers it for
//     as long as the proof could be accepted);
//   - nonce is one gosid issued (DPoP-Nonce): stateless, an HMAC of the
//     current time window under the global secret, so any node checks it
//     without a lookup; a proof without a current nonce is answered
//     use_dpop_nonce with a fresh one;
//   - at a resource endpoint ath is the hash of the access token, and the
//     proof's key is the one the token is bound to (cnf.jkt).

// dpopAlgs are the proof algorithms accepted (asymmetric only).
var dpopAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

// dpopAlgNames lists dpopAlgs for discovery and WWW-Authenticate.
func dpopAlgNames() []string {
	out := make([]string, len(dpopAlgs))
	for i, a := range dpopAlgs {
		out[i] = string(a)
	}
	return out
}

const (
	// dpopMaxAge is how old a proof's iat may be, dpopMaxSkew how far in the
	// future (clock skew).
	dpopMaxAge  = 5 * time.Minute
	dpopMaxSkew = time.Minute
	// dpopNonceWindow is the lifetime of a nonce window: a nonce is accepted
	// in its window and the next one.
	dpopNonceWindow = 5 * time.Minute
	// dpopHeader and dpopNonceHeader are the request and response headers.
	dpopHeader      = "DPoP"
	dpopNonceHeader = "DPoP-Nonce"
)

// DPoP error codes (RFC 9449 §12.2).
var (
	errInvalidDPoPProof = &fosite.RFC6749Error{ErrorField: "invalid_dpop_proof",
		DescriptionField: "The DPoP proof is invalid.", CodeField: http.StatusBadRequest}
	errUseDPoPNonce = &fosite.RFC6749Error{ErrorField: "use_dpop_nonce",
		DescriptionField: "The DPoP proof must carry the nonce the server provided.", CodeField: http.StatusBadRequest}
)

// dpopChecker verifies proofs and issues nonces.
type dpopChecker struct {
	eph      storage.Ephemeral
	nonceKey []byte
	// requireNonce makes every proof carry a server-issued nonce.
	requireNonce bool
	now          func() time.Time
}

func newDPoPChecker(eph storage.Ephemeral, globalSecret []byte, requireNonce bool) *dpopChecker {
	m := hmac.New(sha256.New, globalSecret)
	m.Write([]byte("gosid dpop nonce key"))
	return &dpopChecker{eph: eph, nonceKey: m.Sum(nil), requireNonce: requireNonce, now: time.Now}
}

// dpopProof is what a checked proof says.
type dpopProof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key.
	JKT string
}

type dpopClaims struct {
	JTI   string      `json:"jti"`
	HTM   string      `json:"htm"`
	HTU   string      `json:"htu"`
	IAT   json.Number `json:"iat"`
	Nonce string      `json:"nonce"`
	ATH   string      `json:"ath"`
}

// Nonce returns the current nonce.
func (d *dpopChecker) Nonce() string { return d.nonceFor(d.window(d.now())) }

func (d *dpopChecker) window(t time.Time) uint64 {
	return uint64(t.Unix()) / uint64(dpopNonceWindow/time.Second)
}

func (d *dpopChecker) nonceFor(w uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], w)
	m := hmac.New(sha256.New, d.nonceKey)
	m.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(append(b[:], m.Sum(nil)[:16]...))
}

func (d *dpopChecker) nonceValid(n string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(raw) != 24 {
		return false
	}
	w, cur := binary.BigEndian.Uint64(raw[:8]), d.window(d.now())
	if w != cur && w+1 != cur {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(d.nonceFor(w)), []byte(n)) == 1
}

// Check verifies the proof in r's DPoP header for a request to htu
// (gosid's own URL of the endpoint). accessToken, when not empty, must be
// the one the proof's ath hashes. It returns (nil, nil) when the request
// carries no proof. Errors are errInvalidDPoPProof or errUseDPoPNonce
// (with a hint), or a server error when the store fails.
func (d *dpopChecker) Check(ctx context.Context, r *http.Request, htu, accessToken string) (*dpopProof, error) {
	vals := r.Header.Values(dpopHeader)
	if len(vals) == 0 {
		return nil, nil
	}
	if len(vals) > 1 {
		return nil, errInvalidDPoPProof.WithHint("The request carries more than one DPoP header.")
	}
	jws, err := jose.ParseSigned(vals[0], dpopAlgs)
	if err != nil {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof is not a JWS signed with an accepted asymmetric algorithm.").WithWrap(err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof must have exactly one signature.")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof's typ must be dpop+jwt.")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.IsPublic() || !jwk.Valid() {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof's jwk header must be a public key.")
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof's signature does not verify.").WithWrap(err)
	}
	var c dpopClaims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof's claims are not a JSON object.").WithWrap(err)
	}
	if c.JTI == "" || c.HTM == "" || c.HTU == "" || c.IAT == "" {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof lacks jti, htm, htu or iat.")
	}
	if c.HTM != r.Method {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof's htm does not match the request method.")
	}
	if normalizeHTU(c.HTU) == "" || normalizeHTU(c.HTU) != normalizeHTU(htu) {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof's htu does not match the request URL.")
	}
	iat, err := c.IAT.Float64()
	if err != nil {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof's iat is not a number.")
	}
	now := d.now()
	if at := time.Unix(int64(iat), 0); at.Before(now.Add(-dpopMaxAge)) || at.After(now.Add(dpopMaxSkew)) {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof's iat is too far from the server's time.")
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if subtle.ConstantTimeCompare([]byte(c.ATH), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))) != 1 {
			return nil, errInvalidDPoPProof.WithHint("The DPoP proof's ath does not match the access token.")
		}
	}
	if d.requireNonce || c.Nonce != "" {
		if c.Nonce == "" {
			return nil, errUseDPoPNonce.WithHint("The DPoP proof has no nonce.")
		}
		if !d.nonceValid(c.Nonce) {
			return nil, errUseDPoPNonce.WithHint("The DPoP proof's nonce is not current.")
		}
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof's key has no thumbprint.").WithWrap(err)
	}
	jkt := base64.RawURLEncoding.EncodeToString(tp)
	// Replay: each (key, jti) once, for as long as the iat window admits
	// the proof.
	id := sha256.Sum256([]byte(jkt + "\x00" + c.JTI))
	fresh, err := d.eph.PutNX(ctx, "dpop:jti:"+base64.RawURLEncoding.EncodeToString(id[:]), []byte{1}, dpopMaxAge+dpopMaxSkew)
	if err != nil {
		return nil, fosite.ErrServerError.WithHint("The DPoP proof could not be checked.").WithWrap(fmt.Errorf("dpop replay cache: %w", err))
	}
	if !fresh {
		return nil, errInvalidDPoPProof.WithHint("The DPoP proof was already used.")
	}
	return &dpopProof{JKT: jkt}, nil
}

// normalizeHTU is an http(s) URL without query and fragment, scheme and
// host in lower case, default port dropped (RFC 9449 §4.3, RFC 3986 §6).
func normalizeHTU(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// dpopResourceChallenge writes the WWW-Authenticate of a protected resource
// (userinfo) refusing a DPoP request: RFC 9449 §7.1.
func dpopResourceChallenge(w http.ResponseWriter, code, desc string) {
	v := `DPoP algs="` + strings.Join(dpopAlgNames(), " ") + `"`
	if code != "" {
		v += `, error="` + code + `", error_description="` + desc + `"`
	}
	w.Header().Add("WWW-Authenticate", v)
}

// asRFC returns err as an RFC 6749 error.
func asRFC(err error) *fosite.RFC6749Error {
	var e *fosite.RFC6749Error
	if errors.As(err, &e) {
		return e
	}
	return fosite.ErrorToRFC6749Error(err)
}

// bindDPoP binds the tokens of a token request to the key of its DPoP proof
// (proof nil: none), after the grant was checked and before tokens are
// issued. A client that registered dpop_bound_access_tokens must send a
// proof. A public client's refresh token is bound to the key its tokens
// were first issued to (RFC 9449 §5); a confidential client's refresh
// token is bound to its client authentication instead, and the new tokens
// to whatever key it proves now.
func bindDPoP(ar fosite.AccessRequester, proof *dpopProof) error {
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	fc, _ := ar.GetClient().(*fositeClient)
	refresh := ar.GetGrantTypes().ExactOne("refresh_token")
	bound := refresh && sess.JKT != "" && ar.GetClient().IsPublic()
	if proof == nil {
		if fc != nil && fc.c.DPoPBoundAccessTokens {
			return errInvalidDPoPProof.WithHint("The client must send a DPoP proof (dpop_bound_access_tokens).")
		}
		if bound {
			return errInvalidDPoPProof.WithHint("The refresh token is DPoP-bound: the request must carry a proof by its key.")
		}
		sess.JKT = ""
		return nil
	}
	if bound && sess.JKT != proof.JKT {
		return errInvalidDPoPProof.WithHint("The refresh token is bound to another DPoP key.")
	}
	sess.JKT = proof.JKT
	return nil
}
