package tokenizer

import (
	"sync"
	"unicode"
)

// Codepoint classes as llama.cpp's unicode tables define them
// (src/unicode-data.cpp, generated from UnicodeData.txt). Exactly one
// category bit is set per codepoint; flagSpace is extra.
const (
	flagUndefined uint16 = 0x0001 // Cn
	flagNumber    uint16 = 0x0002 // \p{N}
	flagLetter    uint16 = 0x0004 // \p{L}
	flagSeparator uint16 = 0x0008 // \p{Z}
	flagMark      uint16 = 0x0010 // \p{M}
	flagPunct     uint16 = 0x0020 // \p{P}
	flagSymbol    uint16 = 0x0040 // \p{S}
	flagControl   uint16 = 0x0080 // \p{C}
	flagCategory  uint16 = 0x00FF
	flagSpace     uint16 = 0x0100 // \s as llama.cpp's unicode_set_whitespace
)

// maxCodepoint bounds the table; codepoints past it are undefined, as in llama.cpp.
const maxCodepoint = 0x110000

// Go 1.26's unicode package is Unicode 15.0; llama.cpp's table is 15.1. These are
// the only differences (checked over all 0x110000 codepoints against
// unicode-data.cpp at llama.cpp 3f545be): 15.1 added two ideographic
// description characters ranges (So) and CJK Extension I (Lo).
var unicode151 = []struct {
	lo, hi rune
	flag   uint16
}{
	{0x2FFC, 0x2FFF, flagSymbol},
	{0x31EF, 0x31EF, flagSymbol},
	{0x2EBF0, 0x2EE5D, flagLetter},
}

var (
	bmpFlagsOnce sync.Once
	bmpFlags     []uint16 // flags for codepoints < 0x10000, filled on first use
)

// cptFlags returns llama.cpp's unicode_cpt_flags_from_cpt for c.
func cptFlags(c rune) uint16 {
	if c >= 0 && c < 0x10000 {
		bmpFlagsOnce.Do(fillBMP)
		return bmpFlags[c]
	}
	return computeFlags(c)
}

func fillBMP() {
	t := make([]uint16, 0x10000)
	for c := range t {
		t[c] = computeFlags(rune(c))
	}
	bmpFlags = t
}

func computeFlags(c rune) uint16 {
	if c < 0 || c >= maxCodepoint {
		return flagUndefined
	}
	var f uint16
	for _, r := range unicode151 {
		if c >= r.lo && c <= r.hi {
			f = r.flag
		}
	}
	if f == 0 {
		switch {
		case unicode.In(c, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs):
			f = flagControl
		case unicode.IsLetter(c):
			f = flagLetter
		case unicode.IsMark(c):
			f = flagMark
		case unicode.IsNumber(c):
			f = flagNumber
		case unicode.IsPunct(c):
			f = flagPunct
		case unicode.IsSymbol(c):
			f = flagSymbol
		case unicode.In(c, unicode.Zs, unicode.Zl, unicode.Zp):
			f = flagSeparator
		default:
			f = flagUndefined
		}
	}
	if isWhitespace(c) {
		f |= flagSpace
	}
	return f
}

// isWhitespace is llama.cpp's unicode_set_whitespace (Unicode White_Space).
func isWhitespace(c rune) bool {
	switch {
	case c >= 0x09 && c <= 0x0D, c == 0x20, c == 0x85, c == 0xA0, c == 0x1680,
		c >= 0x2000 && c <= 0x200A, c == 0x2028, c == 0x2029, c == 0x202F, c == 0x205F, c == 0x3000:
		return true
	}
	return false
}

// toLower is llama.cpp's unicode_tolower: the simple lowercase mapping of
// UnicodeData.txt (Go's unicode.ToLower agrees on every codepoint).
func toLower(c rune) rune {
	if c < 0 || c >= maxCodepoint {
		return c
	}
	return unicode.ToLower(c)
}

// decodeCpts splits s into codepoints the way llama.cpp's
// unicode_cpts_from_utf8 does: a lax decoder (no overlong or surrogate
// checks) where each byte that does not start a complete sequence becomes
// U+FFFD on its own.
func decodeCpts(s string, out []rune) []rune {
	out = out[:0]
	for i := 0; i < len(s); {
		c, n := decodeOne(s, i)
		out = append(out, c)
		i += n
	}
	return out
}

func decodeOne(s string, i int) (rune, int) {
	b0 := s[i]
	switch {
	case b0&0x80 == 0:
		return rune(b0), 1
	case b0&0x40 == 0:
		return 0xFFFD, 1
	case b0&0x20 == 0:
		if i+1 >= len(s) || s[i+1]&0xC0 != 0x80 {
			return 0xFFFD, 1
		}
		return rune(b0&0x1F)<<6 | rune(s[i+1]&0x3F), 2
	case b0&0x10 == 0:
		if i+2 >= len(s) || s[i+1]&0xC0 != 0x80 || s[i+2]&0xC0 != 0x80 {
			return 0xFFFD, 1
		}
		return rune(b0&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	case b0&0x08 == 0:
		if i+3 >= len(s) || s[i+1]&0xC0 != 0x80 || s[i+2]&0xC0 != 0x80 || s[i+3]&0xC0 != 0x80 {
			return 0xFFFD, 1
		}
		return rune(b0&0x07)<<18 | rune(s[i+1]&0x3F)<<12 | rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F), 4
	}
	return 0xFFFD, 1
}

// appendCpt encodes c as llama.cpp's unicode_cpt_to_utf8 does, surrogates
// included. Codepoints past U+10FFFF (which llama.cpp rejects with an
// exception) become U+FFFD.
func appendCpt(b []byte, c rune) []byte {
	switch {
	case c >= 0 && c <= 0x7F:
		return append(b, byte(c))
	case c >= 0x80 && c <= 0x7FF:
		return append(b, 0xC0|byte(c>>6), 0x80|byte(c&0x3F))
	case c >= 0x800 && c <= 0xFFFF:
		return append(b, 0xE0|byte(c>>12), 0x80|byte(c>>6&0x3F), 0x80|byte(c&0x3F))
	case c >= 0x10000 && c <= 0x10FFFF:
		return append(b, 0xF0|byte(c>>18), 0x80|byte(c>>12&0x3F), 0x80|byte(c>>6&0x3F), 0x80|byte(c&0x3F))
	}
	return append(b, 0xEF, 0xBF, 0xBD)
}

// utf8Len is llama.cpp's unicode_len_utf8: the sequence length a lead byte announces.
func utf8Len(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// GPT-2 byte-level encoding: every byte maps to a printable codepoint.
var (
	byteToCpt [256]rune
	cptToByte = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToCpt[b] = rune(b)
		} else {
			byteToCpt[b] = rune(256 + n)
			n++
		}
		cptToByte[byteToCpt[b]] = byte(b)
	}
}
