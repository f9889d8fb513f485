package verify

import (
	"context"
	"errors"
	"time"

	"github.com/gosid/gosid/account"
)

// Scan kinds a citizen can upload.
var ScanKinds = []string{"passport", "snils", "inn", "other"}

// MaxScans bounds the scans one account keeps.
const MaxScans = 20

// Scan is an uploaded scan of a document (the file encrypted at rest).
type Scan struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"-"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Data        []byte    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
}

// ScanStore keeps scans; Data is the sealed file.
type ScanStore interface {
	AddScan(ctx context.Context, s *Scan) error
	ListScans(ctx context.Context, accountID string) ([]*Scan, error) // without Data
	GetScan(ctx context.Context, accountID, id string) (*Scan, error)
	DeleteScan(ctx context.Context, accountID, id string) error
	DeleteScans(ctx context.Context, accountID string) error
}

// Errors of scan uploads.
var (
	ErrScanKind    = errors.New("verify: unknown scan kind")
	ErrTooManyScan = errors.New("verify: too many scans")
)

// AddScan checks a file by its content (JPG, PNG or PDF, at most 5 MB,
// well-formed) and stores it encrypted. A bad file is a *account.FieldError.
func (s *Service) AddScan(ctx context.Context, st ScanStore, accountID, kind string, data []byte) (*Scan, error) {
	known := false
	for _, k := range ScanKinds {
		known = known || k == kind
	}
	if !known {
		return nil, ErrScanKind
	}
	ct, fe := account.CheckScan(data)
	if fe != nil {
		fe.Field = "scan"
		return nil, fe
	}
	list, err := st.ListScans(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if len(list) >= MaxScans {
		return nil, ErrTooManyScan
	}
	sc := &Scan{ID: newSubmission(), AccountID: accountID, Kind: kind, ContentType: ct, Size: int64(len(data)),
		CreatedAt: s.o.Now().UTC()}
	if sc.Data, err = s.o.Cipher.Encrypt(data, aad(accountID, "scan:"+sc.ID)); err != nil {
		return nil, err
	}
	if err := st.AddScan(ctx, sc); err != nil {
		return nil, err
	}
	return sc, nil
}

// OpenScan returns a scan with its file decrypted.
func (s *Service) OpenScan(ctx context.Context, st ScanStore, accountID, id string) (*Scan, error) {
	sc, err := st.GetScan(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	if sc.Data, err = s.o.Cipher.Decrypt(ctx, sc.Data, aad(accountID, "scan:"+sc.ID)); err != nil {
		return nil, err
	}
	return sc, nil
}
