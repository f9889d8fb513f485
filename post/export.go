package post

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/goregular"
)

// Batch is one export for the print house.
type Batch struct {
	Letters int
	CSV     []byte // one row per letter: id, name, address, code, expiry
	PDF     []byte // one printable page per letter
}

// Export assembles the ordered letters (at most limit) into a batch and
// hands it to deliver inside the transaction that marks them printed and
// wipes their sealed contents: when deliver fails, nothing is marked and
// the next export prints them again; when the commit fails after deliver,
// the same letters (with the same codes) are printed again.
func (s *Service) Export(ctx context.Context, limit int, deliver func(*Batch) error) (int, error) {
	now := s.o.Now().UTC()
	var n int
	err := s.o.Tx.InTx(ctx, func(ctx context.Context) error {
		ls, err := s.o.Store.LettersToPrint(ctx, limit)
		if err != nil {
			return err
		}
		var contents []Contents
		var ids []string
		for _, l := range ls {
			raw, err := s.o.Cipher.Decrypt(ctx, l.Sealed, letterAAD(l.ID))
			if err != nil {
				return fmt.Errorf("post: open letter %s: %w", l.ID, err)
			}
			var c Contents
			if err := json.Unmarshal(raw, &c); err != nil {
				return err
			}
			ok, err := s.o.Store.SetLetterStatus(ctx, l.ID, StatusPrinted, now, StatusOrdered)
			if err != nil {
				return err
			}
			if ok {
				contents, ids = append(contents, c), append(ids, l.ID)
			}
		}
		n = len(contents)
		if n == 0 {
			return nil
		}
		b, err := render(ids, contents)
		if err != nil {
			return err
		}
		return deliver(b)
	})
	if err != nil {
		return 0, fmt.Errorf("post: export: %w", err)
	}
	return n, nil
}

func addressLines(c Contents) (street, city string) {
	a := c.Address
	street = a.Street + ", д. " + a.House
	if a.Street == "" {
		street = "д. " + a.House
	}
	if a.Flat != "" {
		street += ", кв. " + a.Flat
	}
	return street, a.City + ", " + a.Region + ", " + a.PostalIndex
}

func render(ids []string, cs []Contents) (*Batch, error) {
	var cbuf bytes.Buffer
	w := csv.NewWriter(&cbuf)
	_ = w.Write([]string{"letter", "name", "street", "city", "postal_index", "code", "valid_until"})
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.SetCreationDate(time.Unix(0, 0).UTC())
	for i, c := range cs {
		street, city := addressLines(c)
		_ = w.Write([]string{ids[i], c.Name, street, city, c.Address.PostalIndex, FormatCode(c.Code), c.Expires})
		pdf.AddPage()
		pdf.SetFont("go", "", 11)
		pdf.MultiCell(90, 6, "gosid — Госуслуги\nЕдиная учётная запись", "", "L", false)
		pdf.SetXY(110, 40)
		pdf.MultiCell(90, 6, c.Name+"\n"+street+"\n"+city, "", "L", false)
		pdf.SetXY(20, 90)
		pdf.SetFont("go", "", 13)
		pdf.MultiCell(170, 7, "Код подтверждения личности", "", "L", false)
		pdf.SetFont("go", "", 24)
		pdf.MultiCell(170, 14, FormatCode(c.Code), "", "L", false)
		pdf.SetFont("go", "", 11)
		exp, _ := time.Parse(time.DateOnly, c.Expires)
		pdf.MultiCell(170, 6, "Войдите в личный кабинет, откройте «Подтверждение личности письмом» и введите код. "+
			"Код действует до "+exp.Format("02.01.2006")+". Никому не сообщайте его.\n\nNumber of the letter: "+ids[i], "", "L", false)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	var pbuf bytes.Buffer
	if err := pdf.Output(&pbuf); err != nil {
		return nil, fmt.Errorf("post: render letters: %w", err)
	}
	return &Batch{Letters: len(cs), CSV: cbuf.Bytes(), PDF: pbuf.Bytes()}, nil
}
