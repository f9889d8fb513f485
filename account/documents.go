package account

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Validators for a citizen's identity documents and personal data: SNILS,
// INN, the RF passport, a driver's licence, a foreign-travel passport,
// dates, sex, birthplace, citizenship and address. Each takes the form field
// it reports on and returns the value in the one form gosid stores, or a
// FieldError whose Code is stable (the pages translate "err."+Code). They do
// no I/O: whether a number really belongs to the citizen is for the state
// registries (DESIGN.md "registries").

// maxNumberInput bounds the bytes looked at in a field that holds a number,
// so that separators cannot make the work unbounded.
const maxNumberInput = 64

// digitsOf returns the digits of s with spaces and dashes dropped; ok is
// false for any other character or for input over maxNumberInput bytes.
func digitsOf(s string) (digits string, ok bool) {
	if len(s) > maxNumberInput {
		return "", false
	}
	var b [maxNumberInput]byte
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			b[n] = c
			n++
		case c == ' ' || c == '-':
		default:
			return "", false
		}
	}
	return string(b[:n]), true
}

// allDigits reports whether s is non-empty and made of ASCII digits only.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// NormalizeSNILS checks a SNILS and returns its 11 digits. Spaces and dashes
// anywhere are ignored ("112-233-445 95", "11223344595"). The two check
// digits are verified by the pension fund's rule (see snilsCheck), except
// for numbers up to 001-001-998, issued before check digits existed. All
// zeros is refused.
//
// Codes: snils.required, snils.format, snils.checksum.
func NormalizeSNILS(field, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fieldErr(field, "snils.required")
	}
	d, ok := digitsOf(s)
	if !ok || len(d) != 11 || d == "00000000000" {
		return "", fieldErr(field, "snils.format")
	}
	if d[:9] > "001001998" && int(d[9]-'0')*10+int(d[10]-'0') != snilsCheck(d[:9]) {
		return "", fieldErr(field, "snils.checksum")
	}
	return d, nil
}

// snilsCheck computes the check number of the nine-digit body of a SNILS:
// the digits weighted 9 down to 1 and summed; a sum under 100 is the check
// number, 100 and 101 give 00, a larger sum is taken modulo 101 with 100
// again giving 00.
func snilsCheck(body string) int {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(body[i]-'0') * (9 - i)
	}
	switch {
	case sum < 100:
		return sum
	case sum <= 101:
		return 0
	}
	return sum % 101 % 100
}

// FormatSNILS shows a SNILS as XXX-XXX-XXX YY. Input NormalizeSNILS does not
// accept is returned unchanged.
func FormatSNILS(s string) string {
	d, err := NormalizeSNILS("", s)
	if err != nil {
		return s
	}
	return d[:3] + "-" + d[3:6] + "-" + d[6:9] + " " + d[9:]
}

// NormalizeINN checks a person's INN and returns its 12 digits. Spaces and
// dashes are ignored. Both check digits are verified (weights
// 7,2,4,10,3,5,9,4,6,8 for the 11th and 3,7,2,4,10,3,5,9,4,6,8 for the 12th,
// each sum modulo 11 then modulo 10). A 10-digit number is an organisation's
// INN and gets its own code so the page can say so.
//
// Codes: inn.required, inn.format, inn.legal_entity, inn.checksum.
func NormalizeINN(field, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fieldErr(field, "inn.required")
	}
	d, ok := digitsOf(s)
	switch {
	case !ok:
		return "", fieldErr(field, "inn.format")
	case len(d) == 10:
		return "", fieldErr(field, "inn.legal_entity")
	case len(d) != 12 || d == "000000000000":
		return "", fieldErr(field, "inn.format")
	}
	c11 := innCheck(d, []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8})
	c12 := innCheck(d, []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8})
	if int(d[10]-'0') != c11 || int(d[11]-'0') != c12 {
		return "", fieldErr(field, "inn.checksum")
	}
	return d, nil
}

// innCheck weights the leading digits of d and returns the sum modulo 11
// modulo 10.
func innCheck(d string, weights []int) int {
	sum := 0
	for i, w := range weights {
		sum += int(d[i]-'0') * w
	}
	return sum % 11 % 10
}

// NormalizePassportSeries checks the series of an RF passport: four digits,
// optionally split two and two by one space ("45 06"). It returns the four
// digits.
//
// Codes: passport.series.required, passport.series.format.
func NormalizePassportSeries(field, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fieldErr(field, "passport.series.required")
	}
	if len(s) == 5 && s[2] == ' ' {
		s = s[:2] + s[3:]
	}
	if len(s) != 4 || !allDigits(s) {
		return "", fieldErr(field, "passport.series.format")
	}
	return s, nil
}

// NormalizePassportNumber checks the number of an RF passport: six digits.
//
// Codes: passport.number.required, passport.number.format.
func NormalizePassportNumber(field, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fieldErr(field, "passport.number.required")
	}
	if len(s) != 6 || !allDigits(s) {
		return "", fieldErr(field, "passport.number.format")
	}
	return s, nil
}

// NormalizeDeptCode checks the code of the department that issued an RF
// passport (код подразделения): six digits, written NNN-NNN, NNN NNN or
// NNNNNN. It returns NNN-NNN, the form printed in the passport.
//
// Codes: dept_code.required, dept_code.format.
func NormalizeDeptCode(field, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fieldErr(field, "dept_code.required")
	}
	if len(s) == 7 && (s[3] == '-' || s[3] == ' ') {
		s = s[:3] + s[4:]
	}
	if len(s) != 6 || !allDigits(s) {
		return "", fieldErr(field, "dept_code.format")
	}
	return s[:3] + "-" + s[3:], nil
}

// NormalizeIssuedBy checks the name of the authority that issued a document
// («Кем выдан»), 3 to 250 characters, and returns it with spaces collapsed
// (see textRule for what may appear in it).
//
// Codes: issued_by.required, issued_by.too_short, issued_by.too_long,
// issued_by.invalid_chars.
func NormalizeIssuedBy(field, s string) (string, *FieldError) {
	return textRule{code: "issued_by", min: 3, max: 250, letter: true}.normalize(field, s)
}

// passportIntroduced is the day the current RF passport began to be issued;
// none carries an earlier issue date.
var passportIntroduced = time.Date(1997, time.October, 1, 0, 0, 0, 0, time.UTC)

// PassportInput is an RF passport as typed into a form or an API request.
type PassportInput struct {
	Series    string
	Number    string
	IssueDate string // ДД.ММ.ГГГГ or YYYY-MM-DD
	IssuedBy  string
	DeptCode  string
}

// Passport is an RF passport in the form gosid stores.
type Passport struct {
	Series    string // four digits
	Number    string // six digits
	IssueDate time.Time
	IssuedBy  string
	DeptCode  string // NNN-NNN
}

// CheckPassport validates every field of an RF passport and returns all the
// errors found, on the fields passport_series, passport_number,
// passport_issue_date, passport_issued_by and passport_dept_code. birth is
// the holder's birth date, or the zero time when not known; now is the
// current time, whose calendar date is "today".
//
// Beyond each field's own codes, the issue date is refused with
// passport.issue_date.too_early before 1 October 1997, when the current
// passport was introduced, and, when birth is known, with
// passport.issue_date.before_14 before the holder's 14th birthday and
// passport.expired once the passport is past its validity (see
// PassportValidUntil). The Passport is the zero value unless errs is empty.
func CheckPassport(in PassportInput, birth, now time.Time) (p Passport, errs []*FieldError) {
	add := func(fe *FieldError) {
		if fe != nil {
			errs = append(errs, fe)
		}
	}
	var fe *FieldError
	p.Series, fe = NormalizePassportSeries("passport_series", in.Series)
	add(fe)
	p.Number, fe = NormalizePassportNumber("passport_number", in.Number)
	add(fe)
	p.IssuedBy, fe = NormalizeIssuedBy("passport_issued_by", in.IssuedBy)
	add(fe)
	p.DeptCode, fe = NormalizeDeptCode("passport_dept_code", in.DeptCode)
	add(fe)
	const f = "passport_issue_date"
	p.IssueDate, fe = ParseIssueDate(f, in.IssueDate, now)
	add(fe)
	if fe == nil {
		add(checkPassportIssue(f, p.IssueDate, birth, now))
	}
	if len(errs) > 0 {
		return Passport{}, errs
	}
	return p, nil
}

func checkPassportIssue(field string, issue, birth, now time.Time) *FieldError {
	if issue.Before(passportIntroduced) {
		return fieldErr(field, "passport.issue_date.too_early")
	}
	if birth.IsZero() {
		return nil
	}
	if issue.Before(addYears(dateOf(birth), 14)) {
		return fieldErr(field, "passport.issue_date.before_14")
	}
	if until, ok := PassportValidUntil(issue, birth); ok && dateOf(now).After(until) {
		return fieldErr(field, "passport.expired")
	}
	return nil
}

// PassportValidUntil returns the last day an RF passport is valid, from the
// holder's age on the issue date: a passport issued before the 20th
// birthday must be replaced at 20, one issued before the 45th at 45, and
// each stays valid until the new one is issued but at most 90 days after
// that birthday (Положение о паспорте, Постановление Правительства № 828).
// ok is false for a passport issued at 45 or later, which does not expire.
func PassportValidUntil(issue, birth time.Time) (until time.Time, ok bool) {
	issue, birth = dateOf(issue), dateOf(birth)
	for _, age := range []int{20, 45} {
		if b := addYears(birth, age); issue.Before(b) {
			return b.AddDate(0, 0, 90), true
		}
	}
	return time.Time{}, false
}

// licenceLetters maps the letters allowed in the series of a driver's
// licence issued before 2011 to their Cyrillic capitals: the Cyrillic
// letters that look like Latin ones, in either case, and those Latin
// look-alikes themselves, which citizens type on a Latin keyboard.
var licenceLetters = map[rune]rune{
	'А': 'А', 'В': 'В', 'Е': 'Е', 'К': 'К', 'М': 'М', 'Н': 'Н',
	'О': 'О', 'Р': 'Р', 'С': 'С', 'Т': 'Т', 'У': 'У', 'Х': 'Х',
	'а': 'А', 'в': 'В', 'е': 'Е', 'к': 'К', 'м': 'М', 'н': 'Н',
	'о': 'О', 'р': 'Р', 'с': 'С', 'т': 'Т', 'у': 'У', 'х': 'Х',
	'A': 'А', 'B': 'В', 'E': 'Е', 'K': 'К', 'M': 'М', 'H': 'Н',
	'O': 'О', 'P': 'Р', 'C': 'С', 'T': 'Т', 'Y': 'У', 'X': 'Х',
	'a': 'А', 'e': 'Е', 'k': 'К', 'm': 'М', 'o': 'О', 'p': 'Р',
	'c': 'С', 't': 'Т', 'y': 'У', 'x': 'Х',
}

// NormalizeDriverLicence checks the series and number of a Russian driver's
// licence: two digits, then two digits (since 2011) or two letters (before),
// then six digits, with spaces anywhere ("77 12 345678", "77АВ123456").
// Letters are those of licenceLetters, Latin look-alikes read as Cyrillic.
// It returns the ten characters without spaces, letters as Cyrillic
// capitals.
//
// Codes: licence.required, licence.format.
func NormalizeDriverLicence(field, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fieldErr(field, "licence.required")
	}
	if len(s) > maxNumberInput {
		return "", fieldErr(field, "licence.format")
	}
	var out []rune
	letters := 0
	for _, r := range s {
		if r == ' ' {
			continue
		}
		pos := len(out)
		switch {
		case '0' <= r && r <= '9':
		case pos == 2 || pos == 3:
			l, ok := licenceLetters[r]
			if !ok {
				return "", fieldErr(field, "licence.format")
			}
			r = l
			letters++
		default:
			return "", fieldErr(field, "licence.format")
		}
		out = append(out, r)
	}
	if len(out) != 10 || letters == 1 {
		return "", fieldErr(field, "licence.format")
	}
	return string(out), nil
}

// FormatDriverLicence shows a driver's licence as "77 АВ 123456". Input
// NormalizeDriverLicence does not accept is returned unchanged.
func FormatDriverLicence(s string) string {
	d, err := NormalizeDriverLicence("", s)
	if err != nil {
		return s
	}
	r := []rune(d)
	return string(r[:2]) + " " + string(r[2:4]) + " " + string(r[4:])
}

// DriverLicenceInput is a driver's licence as typed into a form or an API
// request.
type DriverLicenceInput struct {
	Number     string // series and number
	IssueDate  string // ДД.ММ.ГГГГ or YYYY-MM-DD
	ExpiryDate string
}

// DriverLicence is a driver's licence in the form gosid stores.
type DriverLicence struct {
	Number     string // see NormalizeDriverLicence
	IssueDate  time.Time
	ExpiryDate time.Time
}

// CheckDriverLicence validates a driver's licence and returns all the
// errors found, on the fields licence_number, licence_issue_date and
// licence_expiry_date. birth is the holder's birth date or the zero time;
// now's calendar date is "today".
//
// Beyond each field's own codes: licence.issue_date.before_16 (issued
// before the holder's 16th birthday, the youngest age for any category),
// licence.expiry.before_issue, and licence.expiry.too_late (more than the
// 10 years a licence is issued for after the issue date). An expiry date in
// the past is not refused here: licences due to expire in 2022–2025 were
// extended by three years without a new date being printed.
func CheckDriverLicence(in DriverLicenceInput, birth, now time.Time) (l DriverLicence, errs []*FieldError) {
	var fe *FieldError
	if l.Number, fe = NormalizeDriverLicence("licence_number", in.Number); fe != nil {
		errs = append(errs, fe)
	}
	const fi = "licence_issue_date"
	l.IssueDate, fe = ParseIssueDate(fi, in.IssueDate, now)
	if fe == nil && !birth.IsZero() && l.IssueDate.Before(addYears(dateOf(birth), 16)) {
		fe = fieldErr(fi, "licence.issue_date.before_16")
	}
	if fe != nil {
		errs = append(errs, fe)
	}
	if l.ExpiryDate, fe = parseExpiry("licence_expiry_date", "licence", in.ExpiryDate, l.IssueDate, 10); fe != nil {
		errs = append(errs, fe)
	}
	if len(errs) > 0 {
		return DriverLicence{}, errs
	}
	return l, nil
}

// parseExpiry parses the expiry date of document doc and checks it falls
// after issue, when issue is known, and at most years after it.
func parseExpiry(field, doc, s string, issue time.Time, years int) (time.Time, *FieldError) {
	exp, fe := ParseDate(field, s)
	switch {
	case fe != nil:
		return time.Time{}, fe
	case issue.IsZero():
	case !exp.After(issue):
		return time.Time{}, fieldErr(field, doc+".expiry.before_issue")
	case exp.After(addYears(issue, years)):
		return time.Time{}, fieldErr(field, doc+".expiry.too_late")
	}
	return exp, nil
}

// NormalizeForeignPassport checks the series and number of an RF
// foreign-travel passport (загранпаспорт): two digits and seven digits,
// with spaces or dashes anywhere ("75 1234567"). It returns the nine digits.
//
// Codes: foreign_passport.required, foreign_passport.format.
func NormalizeForeignPassport(field, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fieldErr(field, "foreign_passport.required")
	}
	d, ok := digitsOf(s)
	if !ok || len(d) != 9 {
		return "", fieldErr(field, "foreign_passport.format")
	}
	return d, nil
}

// FormatForeignPassport shows a foreign-travel passport as "75 1234567".
// Input NormalizeForeignPassport does not accept is returned unchanged.
func FormatForeignPassport(s string) string {
	d, err := NormalizeForeignPassport("", s)
	if err != nil {
		return s
	}
	return d[:2] + " " + d[2:]
}

// ForeignPassportInput is a foreign-travel passport as typed into a form or
// an API request.
type ForeignPassportInput struct {
	Number     string // series and number
	IssueDate  string // ДД.ММ.ГГГГ or YYYY-MM-DD
	ExpiryDate string
}

// ForeignPassport is a foreign-travel passport in the form gosid stores.
type ForeignPassport struct {
	Number     string // nine digits
	IssueDate  time.Time
	ExpiryDate time.Time
}

// CheckForeignPassport validates a foreign-travel passport and returns all
// the errors found, on the fields foreign_passport_number,
// foreign_passport_issue_date and foreign_passport_expiry_date. birth is
// the holder's birth date or the zero time; now's calendar date is "today".
//
// Beyond each field's own codes: foreign_passport.issue_date.before_birth,
// foreign_passport.expiry.before_issue, foreign_passport.expiry.too_late
// (more than 10 years, the longest term, after the issue date) and
// foreign_passport.expired (the expiry date is before today).
func CheckForeignPassport(in ForeignPassportInput, birth, now time.Time) (p ForeignPassport, errs []*FieldError) {
	var fe *FieldError
	if p.Number, fe = NormalizeForeignPassport("foreign_passport_number", in.Number); fe != nil {
		errs = append(errs, fe)
	}
	const fi = "foreign_passport_issue_date"
	p.IssueDate, fe = ParseIssueDate(fi, in.IssueDate, now)
	if fe == nil && !birth.IsZero() && p.IssueDate.Before(dateOf(birth)) {
		fe = fieldErr(fi, "foreign_passport.issue_date.before_birth")
	}
	if fe != nil {
		errs = append(errs, fe)
	}
	const fx = "foreign_passport_expiry_date"
	p.ExpiryDate, fe = parseExpiry(fx, "foreign_passport", in.ExpiryDate, p.IssueDate, 10)
	if fe == nil && p.ExpiryDate.Before(dateOf(now)) {
		fe = fieldErr(fx, "foreign_passport.expired")
	}
	if fe != nil {
		errs = append(errs, fe)
	}
	if len(errs) > 0 {
		return ForeignPassport{}, errs
	}
	return p, nil
}

// maxDateYears bounds how far back an issue date may lie.
const maxDateYears = 150

// ParseDate parses a calendar date written ДД.ММ.ГГГГ (the pages) or
// YYYY-MM-DD (the APIs), surrounding spaces ignored, and returns it at
// midnight UTC. It checks only that the date exists; callers bound it.
// ParseBirthDate and ParseIssueDate add the bounds for their fields.
//
// Codes: date.required, date.format.
func ParseDate(field, s string) (time.Time, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fieldErr(field, "date.required")
	}
	layout := ""
	switch {
	case len(s) == 10 && s[2] == '.' && s[5] == '.':
		layout = "02.01.2006"
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		layout = "2006-01-02"
	default:
		return time.Time{}, fieldErr(field, "date.format")
	}
	d, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fieldErr(field, "date.format")
	}
	return d, nil
}

// ParseIssueDate parses the issue date of a document as ParseDate does and
// checks it is not after today (now's calendar date) and not more than 150
// years ago.
//
// Codes: date.required, date.format, date.future, date.range.
func ParseIssueDate(field, s string, now time.Time) (time.Time, *FieldError) {
	d, fe := ParseDate(field, s)
	if fe != nil {
		return time.Time{}, fe
	}
	today := dateOf(now)
	switch {
	case d.After(today):
		return time.Time{}, fieldErr(field, "date.future")
	case d.Before(addYears(today, -maxDateYears)):
		return time.Time{}, fieldErr(field, "date.range")
	}
	return d, nil
}

// dateOf returns t's calendar date, in t's own location, at midnight UTC:
// the form dates take here.
func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// addYears adds n years to a date. A 29 February lands on 28 February in a
// year without one: Civil Code art. 192 ends such a term on the last day of
// the month, so a citizen born on 29 February turns 14 on 28 February.
func addYears(d time.Time, n int) time.Time {
	y := d.AddDate(n, 0, 0)
	if y.Day() != d.Day() {
		y = y.AddDate(0, 0, -y.Day())
	}
	return y
}

// Values NormalizeSex returns; they are also the OpenID Connect gender
// claim values.
const (
	SexMale   = "male"
	SexFemale = "female"
)

// NormalizeSex reads the citizen's sex: "male" or "female", or the Russian
// «мужской»/«женский», «муж»/«жен», «М»/«Ж» and the Latin "M"/"F", in any
// case. It returns SexMale or SexFemale.
//
// Codes: sex.required, sex.invalid.
func NormalizeSex(field, s string) (string, *FieldError) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "":
		return "", fieldErr(field, "sex.required")
	case SexMale, "m", "м", "муж", "мужской":
		return SexMale, nil
	case SexFemale, "f", "ж", "жен", "женский":
		return SexFemale, nil
	}
	return "", fieldErr(field, "sex.invalid")
}

// NormalizeBirthplace checks a place of birth as written in the passport,
// 2 to 250 characters, and returns it with spaces collapsed (see textRule).
//
// Codes: birthplace.required, birthplace.too_short, birthplace.too_long,
// birthplace.invalid_chars.
func NormalizeBirthplace(field, s string) (string, *FieldError) {
	return textRule{code: "birthplace", min: 2, max: 250, letter: true}.normalize(field, s)
}

// CitizenshipRussia is the citizenship NormalizeCitizenship assumes when
// none is given.
const CitizenshipRussia = "RUS"

// iso3166 lists every ISO 3166-1 country as its alpha-2 code followed by its
// alpha-3 code (taken from Debian's iso-codes 4.15).
const iso3166 = `
ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT
AUAUS AWABW AXALA AZAZE BABIH BBBRB BDBGD BEBEL BFBFA BGBGR BHBHR BIBDI
BJBEN BLBLM BMBMU BNBRN BOBOL BQBES BRBRA BSBHS BTBTN BVBVT BWBWA BYBLR
BZBLZ CACAN CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK CLCHL CMCMR CNCHN
COCOL CRCRI CUCUB CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU DJDJI DKDNK DMDMA
DODOM DZDZA ECECU EEEST EGEGY EHESH ERERI ESESP ETETH FIFIN FJFJI FKFLK
FMFSM FOFRO FRFRA GAGAB GBGBR GDGRD GEGEO GFGUF GGGGY GHGHA GIGIB GLGRL
GMGMB GNGIN GPGLP GQGNQ GRGRC GSSGS GTGTM GUGUM GWGNB GYGUY HKHKG HMHMD
HNHND HRHRV HTHTI HUHUN IDIDN IEIRL ILISR IMIMN ININD IOIOT IQIRQ IRIRN
ISISL ITITA JEJEY JMJAM JOJOR JPJPN KEKEN KGKGZ KHKHM KIKIR KMCOM KNKNA
KPPRK KRKOR KWKWT KYCYM KZKAZ LALAO LBLBN LCLCA LILIE LKLKA LRLBR LSLSO
LTLTU LULUX LVLVA LYLBY MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD
MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ MRMRT MSMSR MTMLT MUMUS MVMDV MWMWI
MXMEX MYMYS MZMOZ NANAM NCNCL NENER NFNFK NGNGA NINIC NLNLD NONOR NPNPL
NRNRU NUNIU NZNZL OMOMN PAPAN PEPER PFPYF PGPNG PHPHL PKPAK PLPOL PMSPM
PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT REREU ROROU RSSRB RURUS RWRWA
SASAU SBSLB SCSYC SDSDN SESWE SGSGP SHSHN SISVN SJSJM SKSVK SLSLE SMSMR
SNSEN SOSOM SRSUR SSSSD STSTP SVSLV SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF
TGTGO THTHA TJTJK TKTKL TLTLS TMTKM TNTUN TOTON TRTUR TTTTO TVTUV TWTWN
TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN VGVGB VIVIR
VNVNM VUVUT WFWLF WSWSM YEYEM YTMYT ZAZAF ZMZMB ZWZWE
`

// countryAlpha3 maps both codes of each country to its alpha-3 code.
var countryAlpha3 = func() map[string]string {
	m := map[string]string{}
	for _, c := range strings.Fields(iso3166) {
		m[c[:2]], m[c[2:]] = c[2:], c[2:]
	}
	return m
}()

// NormalizeCitizenship reads a citizenship as an ISO 3166-1 alpha-3 ("RUS")
// or alpha-2 ("RU") country code in any case and returns the alpha-3 code.
// An empty field means CitizenshipRussia.
//
// Codes: citizenship.format (not two or three Latin letters),
// citizenship.unknown (no such country).
func NormalizeCitizenship(field, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return CitizenshipRussia, nil
	}
	if len(s) < 2 || len(s) > 3 || strings.ContainsFunc(s, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z')
	}) {
		return "", fieldErr(field, "citizenship.format")
	}
	a3, ok := countryAlpha3[strings.ToUpper(s)]
	if !ok {
		return "", fieldErr(field, "citizenship.unknown")
	}
	return a3, nil
}

// NormalizePostalIndex checks a Russian postal index: six digits.
//
// Codes: postal_index.required, postal_index.format.
func NormalizePostalIndex(field, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fieldErr(field, "postal_index.required")
	}
	if len(s) != 6 || !allDigits(s) {
		return "", fieldErr(field, "postal_index.format")
	}
	return s, nil
}

// Address is a postal address in the parts gosid keeps. Street and Flat may
// be empty (a village without streets, a private house); the rest are
// required.
type Address struct {
	PostalIndex string
	Region      string
	City        string // city, town or village
	Street      string
	House       string // house with building or block, e.g. "12 к. 2"
	Flat        string
}

// Bounds and rules for each part of an address; the code is shared so the
// pages say the same thing whichever part it is, and the field tells which.
var (
	addressRegion = textRule{code: "address", min: 2, max: 100, letter: true}
	addressCity   = textRule{code: "address", min: 2, max: 100, letter: true}
	addressStreet = textRule{code: "address", min: 1, max: 150, letter: true}
	addressHouse  = textRule{code: "address", min: 1, max: 20}
	addressFlat   = textRule{code: "address", min: 1, max: 20}
)

// NormalizeAddress checks every part of an address and returns all the
// errors found, on the fields prefix+"_postal_index", prefix+"_region",
// prefix+"_city", prefix+"_street", prefix+"_house" and prefix+"_flat"
// (prefix tells the registration address from the residence address).
// Text parts are checked as textRule describes, with spaces collapsed.
//
// Codes: postal_index.* (see NormalizePostalIndex), address.required,
// address.too_short, address.too_long, address.invalid_chars. The Address
// is the zero value unless errs is empty.
func NormalizeAddress(prefix string, a Address) (out Address, errs []*FieldError) {
	part := func(dst *string, name, s string, r textRule, optional bool) {
		if optional && strings.TrimSpace(s) == "" {
			return
		}
		v, fe := r.normalize(prefix+"_"+name, s)
		if fe != nil {
			errs = append(errs, fe)
		}
		*dst = v
	}
	var fe *FieldError
	if out.PostalIndex, fe = NormalizePostalIndex(prefix+"_postal_index", a.PostalIndex); fe != nil {
		errs = append(errs, fe)
	}
	part(&out.Region, "region", a.Region, addressRegion, false)
	part(&out.City, "city", a.City, addressCity, false)
	part(&out.Street, "street", a.Street, addressStreet, true)
	part(&out.House, "house", a.House, addressHouse, false)
	part(&out.Flat, "flat", a.Flat, addressFlat, true)
	if len(errs) > 0 {
		return Address{}, errs
	}
	return out, nil
}

// maxTextInput bounds the bytes looked at in a free-text field.
const maxTextInput = 4096

// textPunct is the punctuation allowed in free-text fields: what official
// names of authorities, places and addresses use.
const textPunct = ".,-–—№#\"'«»()/:;’"

// textRule checks a free-text field such as an issuing authority, a
// birthplace or part of an address. Allowed: Cyrillic letters, Latin ASCII
// letters, ASCII digits, spaces and textPunct. Runs of spaces (any Unicode
// space that is not a control character) become one space and the ends are
// trimmed; control characters, including tabs and line breaks, invisible
// format characters and markup are refused. Lengths are in characters,
// after collapsing spaces. Codes are code+".required", ".too_short",
// ".too_long" and ".invalid_chars".
type textRule struct {
	code     string
	min, max int
	letter   bool // at least one letter required
}

func (r textRule) normalize(field, s string) (string, *FieldError) {
	if len(s) > maxTextInput {
		return "", fieldErr(field, r.code+".too_long")
	}
	if !utf8.ValidString(s) {
		return "", fieldErr(field, r.code+".invalid_chars")
	}
	letter := false
	for _, c := range s {
		switch {
		case unicode.IsControl(c):
			return "", fieldErr(field, r.code+".invalid_chars")
		case unicode.IsSpace(c), '0' <= c && c <= '9', strings.ContainsRune(textPunct, c):
		case isTextLetter(c):
			letter = true
		default:
			return "", fieldErr(field, r.code+".invalid_chars")
		}
	}
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return "", fieldErr(field, r.code+".required")
	case n < r.min:
		return "", fieldErr(field, r.code+".too_short")
	case n > r.max:
		return "", fieldErr(field, r.code+".too_long")
	case r.letter && !letter:
		return "", fieldErr(field, r.code+".invalid_chars")
	}
	return s, nil
}

// isTextLetter reports whether c is a Cyrillic letter or a Latin ASCII one.
func isTextLetter(c rune) bool {
	if c < utf8.RuneSelf {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	return unicode.Is(unicode.Cyrillic, c) && unicode.IsLetter(c)
}

// Country is one ISO 3166-1 country: its alpha-2 and alpha-3 codes.
type Country struct{ Alpha2, Alpha3 string }

// Countries lists every country NormalizeCitizenship accepts.
func Countries() []Country {
	var out []Country
	for _, c := range strings.Fields(iso3166) {
		out = append(out, Country{Alpha2: c[:2], Alpha3: c[2:]})
	}
	return out
}
