package account

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// testImage is a small page-like picture: white with a dark band.
func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			c := color.RGBA{255, 255, 255, 255}
			if y > 20 && y < 28 {
				c = color.RGBA{uint8(x * 4), 30, 60, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func encodedJPEG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodedPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk builds one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// pngWith builds a PNG of the given chunks after the signature.
func pngWith(chunks ...[]byte) []byte {
	b := append([]byte{}, pngSignature...)
	for _, c := range chunks {
		b = append(b, c...)
	}
	return b
}

func ihdr(w, h uint32) []byte {
	d := binary.BigEndian.AppendUint32(nil, w)
	d = binary.BigEndian.AppendUint32(d, h)
	return pngChunk("IHDR", append(d, 8, 2, 0, 0, 0))
}

// minimalPDF builds a one-page PDF with a correct cross-reference table.
func minimalPDF() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
	}
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func joinBytes(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckScan(t *testing.T) {
	jpg := encodedJPEG(t)
	pngData := encodedPNG(t)
	pdf := minimalPDF()
	idat := pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	iend := pngChunk("IEND", nil)

	// A JPEG with its frame header's size changed to 20000×20000.
	huge := bytes.Clone(jpg)
	sof := bytes.Index(huge, []byte{0xFF, 0xC0})
	binary.BigEndian.PutUint16(huge[sof+5:], 20000)
	binary.BigEndian.PutUint16(huge[sof+7:], 20000)
	// The same JPEG without its frame header segment.
	sofLen := int(binary.BigEndian.Uint16(jpg[sof+2:]))
	noFrame := joinBytes(jpg[:sof], jpg[sof+2+sofLen:])
	// A PNG with one bit of image data flipped.
	badCRC := bytes.Clone(pngData)
	badCRC[bytes.Index(badCRC, []byte("IDAT"))+6] ^= 1
	// A PDF whose startxref points past its end.
	farXref := bytes.Replace(pdf, []byte("startxref\n"), []byte("startxref\n9"), 1)
	padded := joinBytes(jpg, make([]byte, MaxScanSize-len(jpg)))

	tests := []struct {
		name string
		data []byte
		want string // content type, or the code
	}{
		{"jpeg", jpg, ScanJPEG},
		{"jpeg, baseline q50", readTestdata(t, "video-001.q50.420.jpeg"), ScanJPEG},
		{"jpeg, progressive", readTestdata(t, "video-001.q50.420.progressive.jpeg"), ScanJPEG},
		{"jpeg, restart markers", readTestdata(t, "video-001.restart2.jpeg"), ScanJPEG},
		// Fewer progressive scans than planned but ended by EOI: decoders
		// show it, coarser, so it is a whole file.
		{"jpeg, progressive with scans left out", readTestdata(t, "video-001.progressive.truncated.jpeg"), ScanJPEG},
		{"jpeg, data after EOI", joinBytes(jpg, []byte("ftypmp42 motion photo")), ScanJPEG},
		{"jpeg, exactly MaxScanSize", padded, ScanJPEG},
		{"png", pngData, ScanPNG},
		{"png, hand-built", pngWith(ihdr(3, 2), idat, iend), ScanPNG},
		{"png, data after IEND", joinBytes(pngData, []byte("UUUU\xc7\xbe")), ScanPNG},
		{"pdf", pdf, ScanPDF},
		{"pdf, CRLF and trailing newlines", joinBytes(bytes.ReplaceAll(pdf, []byte("\n"), []byte("\r\n")), []byte("\r\n\r\n")), ScanPDF},
		{"pdf, junk after %%EOF", joinBytes(pdf, []byte("\x00\x00garbage")), ScanPDF},
		{"pdf 2.0", bytes.Replace(pdf, []byte("%PDF-1.4"), []byte("%PDF-2.0"), 1), ScanPDF},

		{"nil", nil, "scan.empty"},
		{"empty", []byte{}, "scan.empty"},
		{"over MaxScanSize", append(padded, 0), "scan.too_large"},
		{"text renamed .jpg", []byte("Паспорт серия 4506 номер 123456\n"), "scan.type"},
		{"html", []byte("<!DOCTYPE html><html>"), "scan.type"},
		{"tiff", []byte("II*\x00\x08\x00\x00\x00"), "scan.type"},
		{"tiff, big-endian", []byte("MM\x00*\x00\x00\x00\x08"), "scan.type"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "scan.type"},
		{"bmp", []byte("BM\x3a\x00\x00\x00"), "scan.type"},
		{"webp", []byte("RIFF\x1a\x00\x00\x00WEBPVP8 "), "scan.type"},
		{"heic", []byte("\x00\x00\x00\x18ftypheic"), "scan.type"},
		{"zip, e.g. docx", []byte("PK\x03\x04\x14\x00"), "scan.type"},
		{"pdf after a BOM", joinBytes([]byte("\xef\xbb\xbf"), pdf), "scan.type"},
		{"pdf without the dash", []byte("%PDF1.4\n%%EOF"), "scan.type"},
		{"jpeg SOI alone", []byte{0xFF, 0xD8}, "scan.type"},

		{"jpeg, SOI and a marker byte", []byte{0xFF, 0xD8, 0xFF}, "scan.corrupt"},
		{"jpeg, SOI then text", joinBytes(jpegSOI, []byte("hello world")), "scan.corrupt"},
		{"jpeg, truncated in the scan", jpg[:len(jpg)*2/3], "scan.corrupt"},
		{"jpeg, truncated in the headers", jpg[:40], "scan.corrupt"},
		{"jpeg, EOI cut off", jpg[:len(jpg)-2], "scan.corrupt"},
		{"jpeg, half the EOI", jpg[:len(jpg)-1], "scan.corrupt"},
		{"jpeg, no frame header", noFrame, "scan.corrupt"},
		{"jpeg, progressive cut short", readTestdata(t, "video-001.q50.420.progressive.jpeg")[:2000], "scan.corrupt"},
		{"jpeg, EOI right after SOI", []byte{0xFF, 0xD8, 0xFF, 0xD9}, "scan.corrupt"},
		{"jpeg, zero-length segment", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00, 0xFF, 0xD9}, "scan.corrupt"},
		{"jpeg, 20000×20000", huge, "scan.dimensions"},
		{"png, signature alone", pngSignature, "scan.corrupt"},
		{"png, truncated", pngData[:len(pngData)-1], "scan.corrupt"},
		{"png, cut in half", pngData[:len(pngData)/2], "scan.corrupt"},
		{"png, bad CRC", badCRC, "scan.corrupt"},
		{"png, no IHDR", pngWith(idat, iend), "scan.corrupt"},
		{"png, IHDR second", pngWith(pngChunk("tEXt", []byte("a\x00b")), ihdr(3, 2), idat, iend), "scan.corrupt"},
		{"png, two IHDR", pngWith(ihdr(3, 2), ihdr(3, 2), idat, iend), "scan.corrupt"},
		{"png, short IHDR", pngWith(pngChunk("IHDR", make([]byte, 12)), idat, iend), "scan.corrupt"},
		{"png, no image data", pngWith(ihdr(3, 2), iend), "scan.corrupt"},
		{"png, zero width", pngWith(ihdr(0, 2), idat, iend), "scan.corrupt"},
		{"png, RGB at 4 bits", pngWith(pngChunk("IHDR", []byte{0, 0, 0, 3, 0, 0, 0, 2, 4, 2, 0, 0, 0}), idat, iend), "scan.corrupt"},
		{"png, colour type 5", pngWith(pngChunk("IHDR", []byte{0, 0, 0, 3, 0, 0, 0, 2, 8, 5, 0, 0, 0}), idat, iend), "scan.corrupt"},
		{"png, interlace 2", pngWith(pngChunk("IHDR", []byte{0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 2}), idat, iend), "scan.corrupt"},
		{"png, 16-bit grey, interlaced", pngWith(pngChunk("IHDR", []byte{0, 0, 0, 3, 0, 0, 0, 2, 16, 0, 0, 0, 1}), idat, iend), ScanPNG},
		{"png, 1-bit palette", pngWith(pngChunk("IHDR", []byte{0, 0, 0, 3, 0, 0, 0, 2, 1, 3, 0, 0, 0}), pngChunk("PLTE", []byte{0, 0, 0, 255, 255, 255}), idat, iend), ScanPNG},
		{"png, palette missing", pngWith(pngChunk("IHDR", []byte{0, 0, 0, 3, 0, 0, 0, 2, 1, 3, 0, 0, 0}), idat, iend), "scan.corrupt"},
		{"png, width over 2³¹", pngWith(ihdr(1<<31, 2), idat, iend), "scan.corrupt"},
		{"png, chunk length past the end", pngWith(ihdr(3, 2), []byte{0x7f, 0xff, 0xff, 0xff, 'I', 'D', 'A', 'T'}), "scan.corrupt"},
		{"png, 10000×10000", pngWith(ihdr(10000, 10000), idat, iend), "scan.dimensions"},
		{"png, 50 megapixels exactly", pngWith(ihdr(10000, 5000), idat, iend), ScanPNG},
		{"pdf, truncated", pdf[:len(pdf)/2], "scan.corrupt"},
		{"pdf, %%EOF cut off", pdf[:len(pdf)-6], "scan.corrupt"},
		{"pdf, no startxref", bytes.Replace(pdf, []byte("startxref"), []byte("startxraf"), 1), "scan.corrupt"},
		{"pdf, startxref past the end", farXref, "scan.corrupt"},
		{"pdf, startxref without a number", bytes.Replace(pdf, []byte("startxref\n"), []byte("startxref\nx"), 1), "scan.corrupt"},
		{"pdf, header without a version", bytes.Replace(pdf, []byte("%PDF-1.4"), []byte("%PDF-x.y"), 1), "scan.corrupt"},
		{"pdf, text file with a PDF header", []byte("%PDF-1.4\nЭто не PDF.\n"), "scan.corrupt"},
		{"pdf, %%EOF only at the start", joinBytes([]byte("%PDF-1.4\nstartxref\n9\n%%EOF\n"), bytes.Repeat([]byte("x"), 2000)), "scan.corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, fe := CheckScan(tt.data)
			got := typ
			if fe != nil {
				got = fe.Code
				if typ != "" || fe.Field != "scan" {
					t.Fatalf("CheckScan = %q, %+v", typ, fe)
				}
			}
			if got != tt.want {
				t.Fatalf("CheckScan = %q, want %q", got, tt.want)
			}
			// What CheckScan accepts, Go's own decoders can read the size of.
			var err error
			switch typ {
			case ScanPNG:
				_, err = png.DecodeConfig(bytes.NewReader(tt.data))
			case ScanJPEG:
				_, err = jpeg.DecodeConfig(bytes.NewReader(tt.data))
			}
			if err != nil {
				t.Fatalf("accepted, but %v", err)
			}
		})
	}
}

func TestCheckScanAllocatesNothing(t *testing.T) {
	jpg, pngData, pdf := encodedJPEG(t), encodedPNG(t), minimalPDF()
	if n := testing.AllocsPerRun(10, func() {
		for _, b := range [][]byte{jpg, pngData, pdf} {
			if _, fe := CheckScan(b); fe != nil {
				t.Fatal(fe)
			}
		}
	}); n != 0 {
		t.Errorf("CheckScan allocates %v times per run", n)
	}
}

func FuzzCheckScan(f *testing.F) {
	f.Add(minimalPDF())
	f.Add(pngWith(ihdr(3, 2), pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}), pngChunk("IEND", nil)))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x08, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9})
	f.Add([]byte("hello"))
	for _, name := range []string{"video-001.q50.420.jpeg", "video-001.progressive.truncated.jpeg"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, fe := CheckScan(data)
		if fe != nil {
			if typ != "" || fe.Field != "scan" || !codeForm.MatchString(fe.Code) {
				t.Fatalf("CheckScan = %q, %+v", typ, fe)
			}
			return
		}
		var magic []byte
		switch typ {
		case ScanJPEG:
			magic = jpegSOI
		case ScanPNG:
			magic = pngSignature
		case ScanPDF:
			magic = pdfHeader
		default:
			t.Fatalf("CheckScan = %q", typ)
		}
		if !bytes.HasPrefix(data, magic) || len(data) > MaxScanSize {
			t.Fatalf("accepted %q of %d bytes starting %q", typ, len(data), data[:min(len(data), 8)])
		}
	})
}
