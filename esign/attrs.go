package esign

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
)

// OIDs of the subject attributes of a Russian qualified certificate
// (Order of the FSB no. 795).
var (
	OIDSNILS     = asn1.ObjectIdentifier{1, 2, 643, 100, 3}
	OIDINN       = asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}
	OIDOGRN      = asn1.ObjectIdentifier{1, 2, 643, 100, 1}
	OIDOGRNIP    = asn1.ObjectIdentifier{1, 2, 643, 100, 5}
	OIDINNLE     = asn1.ObjectIdentifier{1, 2, 643, 100, 4}
	OIDSurname   = asn1.ObjectIdentifier{2, 5, 4, 4}
	OIDGivenName = asn1.ObjectIdentifier{2, 5, 4, 42}
)

// Attributes are the citizen's data a qualified certificate carries.
// GivenName holds the given name only; the patronymic, which Russian
// certificates put after it ("Иван Иванович"), is in MiddleName.
type Attributes struct {
	SNILS, INN, OGRN       string
	FamilyName, GivenName  string
	MiddleName, CommonName string
}

// ReadAttributes reads the Russian attributes from cert's subject. Values
// that are not of the expected shape (SNILS 11 digits, INN 10 or 12,
// OGRN 13 or 15) are left empty rather than guessed at.
func ReadAttributes(cert *x509.Certificate) Attributes {
	return attributesOf(cert.Subject.Names)
}

// ParseSubject reads the attributes from a DER-encoded Name (the fuzzed
// entry point: certificates come from outside).
func ParseSubject(der []byte) (Attributes, error) {
	var rdn pkix.RDNSequence
	rest, err := asn1.Unmarshal(der, &rdn)
	if err != nil {
		return Attributes{}, err
	}
	if len(rest) > 0 {
		return Attributes{}, asn1.SyntaxError{Msg: "trailing data after the name"}
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return attributesOf(n.Names), nil
}

func attributesOf(names []pkix.AttributeTypeAndValue) Attributes {
	var a Attributes
	for _, tv := range names {
		v, ok := tv.Value.(string)
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch {
		case tv.Type.Equal(OIDSNILS):
			a.SNILS = digitsOfLen(v, 11)
		case tv.Type.Equal(OIDINN):
			// A person's INN is 12 digits; some authorities zero-pad a
			// 10-digit one.
			d := digitsOfLen(v, 12)
			if d == "" {
				d = digitsOfLen(v, 10)
			}
			a.INN = d
		case tv.Type.Equal(OIDOGRN):
			a.OGRN = digitsOfLen(v, 13)
		case tv.Type.Equal(OIDOGRNIP):
			a.OGRN = digitsOfLen(v, 15)
		case tv.Type.Equal(OIDSurname):
			a.FamilyName = bounded(v)
		case tv.Type.Equal(OIDGivenName):
			given, middle, _ := strings.Cut(v, " ")
			a.GivenName, a.MiddleName = bounded(given), bounded(strings.TrimSpace(middle))
		case tv.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 3}):
			a.CommonName = bounded(v)
		}
	}
	return a
}

// digitsOfLen returns v when it is exactly n ASCII digits.
func digitsOfLen(v string, n int) string {
	if len(v) != n {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return ""
		}
	}
	return v
}

func bounded(v string) string {
	if len(v) > 200 {
		return ""
	}
	return v
}
