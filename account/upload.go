package account

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
)

// Scans of documents (passport pages, SNILS certificate) that citizens
// upload: JPEG, PNG or PDF, at most 5 MB, the type told by the content and
// never by the file name or the browser's Content-Type (DESIGN.md
// "uploads"). CheckScan looks at the structure only as far as needed to
// refuse a renamed file or one cut short in transfer; it decodes no pixels
// and runs nothing inside a PDF.

// MaxScanSize is the largest scan accepted, in bytes.
const MaxScanSize = 5 << 20

// MaxScanPixels bounds the width times height of an image scan: a page at
// 600 dpi is about 35 million pixels, and an image far larger than any
// scanner makes would only serve to exhaust the memory of whatever decodes
// it later.
const MaxScanPixels = 50_000_000

// Content types CheckScan returns.
const (
	ScanJPEG = "image/jpeg"
	ScanPNG  = "image/png"
	ScanPDF  = "application/pdf"
)

// CheckScan tells what kind of scan data holds and checks it is whole. It
// returns one of ScanJPEG, ScanPNG and ScanPDF, or a FieldError on field
// "scan":
//
//   - scan.empty: no bytes;
//   - scan.too_large: over MaxScanSize;
//   - scan.type: not JPEG, PNG or PDF by its first bytes (a .txt, .tif or
//     .gif renamed to .jpg is refused here);
//   - scan.corrupt: the right first bytes but a broken or truncated
//     structure (see validJPEG, validPNG and validPDF);
//   - scan.dimensions: an image of more than MaxScanPixels pixels.
func CheckScan(data []byte) (string, *FieldError) {
	const f = "scan"
	switch {
	case len(data) == 0:
		return "", fieldErr(f, "scan.empty")
	case len(data) > MaxScanSize:
		return "", fieldErr(f, "scan.too_large")
	}
	var typ string
	var w, h int
	ok := false
	switch {
	case bytes.HasPrefix(data, jpegSOI):
		typ = ScanJPEG
		w, h, ok = validJPEG(data)
	case bytes.HasPrefix(data, pngSignature):
		typ = ScanPNG
		w, h, ok = validPNG(data)
	case bytes.HasPrefix(data, pdfHeader):
		typ = ScanPDF
		w, h, ok = 1, 1, validPDF(data)
	default:
		return "", fieldErr(f, "scan.type")
	}
	switch {
	case !ok || w <= 0 || h <= 0:
		return "", fieldErr(f, "scan.corrupt")
	case int64(w)*int64(h) > MaxScanPixels:
		return "", fieldErr(f, "scan.dimensions")
	}
	return typ, nil
}

var (
	jpegSOI      = []byte{0xFF, 0xD8, 0xFF}
	jpegEOI      = []byte{0xFF, 0xD9}
	pngSignature = []byte("\x89PNG\r\n\x1a\n")
	pdfHeader    = []byte("%PDF-")
)

// validJPEG walks the marker segments from SOI to the first start of scan,
// requiring a frame header (SOFn) before it, and then an EOI marker after
// it; it returns the frame's width and height. Entropy-coded data cannot
// hold FF D9 (an FF there is followed by 00 or a restart marker), so the
// first FF D9 after the scan header ends the image. Bytes after EOI are
// allowed: phone cameras append thumbnails and motion-photo video there.
func validJPEG(b []byte) (w, h int, ok bool) {
	sawFrame := false
	i := 2
	for {
		if i >= len(b) || b[i] != 0xFF {
			return 0, 0, false
		}
		for i < len(b) && b[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(b) {
			return 0, 0, false
		}
		m := b[i]
		i++
		switch {
		case m == 0x00 || m == 0xD8 || m == 0xD9:
			return 0, 0, false
		case m == 0x01 || 0xD0 <= m && m <= 0xD7: // TEM, RSTn: no length
			continue
		}
		if i+2 > len(b) {
			return 0, 0, false
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 || i+n > len(b) {
			return 0, 0, false
		}
		seg := b[i+2 : i+n]
		switch {
		case isJPEGFrame(m):
			if len(seg) < 6 {
				return 0, 0, false
			}
			h = int(binary.BigEndian.Uint16(seg[1:]))
			w = int(binary.BigEndian.Uint16(seg[3:]))
			sawFrame = true
		case m == 0xDA: // SOS
			if !sawFrame {
				return 0, 0, false
			}
			return w, h, bytes.Contains(b[i+n:], jpegEOI)
		}
		i += n
	}
}

// isJPEGFrame reports whether marker m starts a frame (SOF0–SOF15 less DHT,
// JPG and DAC, which share the range).
func isJPEGFrame(m byte) bool {
	return 0xC0 <= m && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC
}

// validPNG walks the chunks after the signature up to IEND, checking each
// CRC, that IHDR comes first with its 13 bytes and valid fields, that a
// palette image has its palette before the image data, and that there is
// image data; it returns IHDR's width and height. Bytes after IEND are allowed,
// as for JPEG: editors that overwrite a file in place leave them, and
// browsers ignore them.
func validPNG(b []byte) (w, h int, ok bool) {
	sawData, paletted, sawPalette := false, false, false
	for i := len(pngSignature); i+12 <= len(b); {
		n := binary.BigEndian.Uint32(b[i:])
		if n > 1<<31-1 || uint64(n) > uint64(len(b)-i-12) {
			return 0, 0, false
		}
		end := i + 8 + int(n)
		typ, data := string(b[i+4:i+8]), b[i+8:end]
		if crc32.ChecksumIEEE(b[i+4:end]) != binary.BigEndian.Uint32(b[end:]) {
			return 0, 0, false
		}
		if (i == len(pngSignature)) != (typ == "IHDR") {
			return 0, 0, false
		}
		switch typ {
		case "IHDR":
			if n != 13 || !validIHDR(data) {
				return 0, 0, false
			}
			w64, h64 := binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:])
			if w64 > 1<<31-1 || h64 > 1<<31-1 {
				return 0, 0, false
			}
			w, h, paletted = int(w64), int(h64), data[9] == 3
		case "PLTE":
			sawPalette = true
		case "IDAT":
			if paletted && !sawPalette {
				return 0, 0, false
			}
			sawData = true
		case "IEND":
			return w, h, sawData
		}
		i = end + 4
	}
	return 0, 0, false
}

// validIHDR checks the colour type, the bit depth allowed with it, and the
// compression, filter and interlace methods PNG defines.
func validIHDR(d []byte) bool {
	depth, colour := d[8], d[9]
	var depths string
	switch colour {
	case 0: // greyscale
		depths = "\x01\x02\x04\x08\x10"
	case 3: // palette
		depths = "\x01\x02\x04\x08"
	case 2, 4, 6: // RGB, grey with alpha, RGBA
		depths = "\x08\x10"
	}
	return strings.IndexByte(depths, depth) >= 0 && d[10] == 0 && d[11] == 0 && d[12] <= 1
}

// pdfTail is how far from the end a PDF reader looks for %%EOF.
const pdfTail = 1024

// validPDF checks the header names a version ("%PDF-1.7", "%PDF-2.0") and
// that the last pdfTail bytes hold "startxref", the offset of the
// cross-reference data within the file, and "%%EOF" after it: a file cut
// short loses them. Bytes after %%EOF within that tail are tolerated, as
// readers do.
func validPDF(b []byte) bool {
	v := b[len(pdfHeader):]
	if len(v) < 3 || !isDigit(v[0]) || v[1] != '.' || !isDigit(v[2]) {
		return false
	}
	tail := b[max(0, len(b)-pdfTail):]
	eof := bytes.LastIndex(tail, []byte("%%EOF"))
	if eof < 0 {
		return false
	}
	sx := bytes.LastIndex(tail[:eof], []byte("startxref"))
	if sx < 0 {
		return false
	}
	rest := bytes.TrimLeft(tail[sx+len("startxref"):eof], " \t\r\n\x00\f")
	off, digits := 0, 0
	for ; digits < len(rest) && isDigit(rest[digits]); digits++ {
		off = off*10 + int(rest[digits]-'0')
		if off >= len(b) {
			return false
		}
	}
	return digits > 0 && off > 0 && len(bytes.TrimSpace(rest[digits:])) == 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
