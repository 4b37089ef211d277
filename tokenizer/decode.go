package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// nfdFirst is llama.cpp's unicode_cpts_normalize_nfd for one codepoint: the
// first codepoint of its canonical decomposition (so "é" becomes "e").
func nfdFirst(c rune) rune {
	if c < 0xC0 || (c >= 0xD800 && c < 0xE000) || c >= maxCodepoint {
		return c
	}
	var buf [4]byte
	d := norm.NFD.Append(nil, appendCpt(buf[:0], c)...)
	r, _ := utf8.DecodeRune(d)
	return r
}

// piece is llama_token_to_piece(id, lstrip 0, special true), the text a
// token stands for: control, unknown and user-defined tokens as their raw
// text, byte tokens as their byte, normal tokens with "▁" as a space (SPM,
// WordPiece) or byte-level decoded (BPE). Other types render as nothing.
func (t *Tokenizer) piece(id int32) string {
	a := t.attrs[id]
	text := t.tokens[id]
	if a&(attrUnknown|attrControl|attrUserDefined) != 0 {
		return text
	}
	if a&attrNormal != 0 {
		if t.kind == kindBPE {
			return bpeDecodeText(text)
		}
		return strings.ReplaceAll(text, "\u2581", " ")
	}
	if a&attrByte != 0 {
		return string([]byte{tokenByte(text)})
	}
	return ""
}

// tokenByte reads the byte of a "<0xXX>" token (strtol of text[3:5]).
func tokenByte(text string) byte {
	var v byte
	for i := 3; i < 5 && i < len(text); i++ {
		c := text[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return v
		}
	}
	return v
}

// bpeDecodeText is llama_decode_text: each codepoint of a byte-level token
// back to its byte; a codepoint outside the byte map is spelled out as
// llama.cpp does.
func bpeDecodeText(text string) string {
	var b []byte
	for _, c := range decodeCpts(text, nil) {
		if v, ok := cptToByte[c]; ok {
			b = append(b, v)
			continue
		}
		u := appendCpt(nil, c)
		b = append(b, "[UNK_BYTE_0x"...)
		for _, x := range u {
			b = fmt.Appendf(b, "%02x", x)
		}
		b = append(b, text...)
		b = append(b, ']')
	}
	return string(b)
}

// TokenToPiece returns the bytes of one token as llama.cpp's
// llama_token_to_piece with special=true (nil for an id outside the vocabulary).
func (t *Tokenizer) TokenToPiece(id int32) []byte {
	if id < 0 || int(id) >= len(t.pieces) {
		return nil
	}
	return []byte(t.pieces[id])
}

// DecodeBytes concatenates the pieces of ids: the bytes llama-server's
// /detokenize builds (special tokens rendered as their text, no leading
// space removed, no clean-up). Ids outside the vocabulary are skipped.
func (t *Tokenizer) DecodeBytes(ids []int32) []byte {
	var b []byte
	for _, id := range ids {
		if id >= 0 && int(id) < len(t.pieces) {
			b = append(b, t.pieces[id]...)
		}
	}
	return b
}

// Decode is DecodeBytes as valid UTF-8: llama-server's /detokenize content,
// where bytes that do not form UTF-8 (a lone byte token, a character cut
// between tokens at the end) become U+FFFD, one per maximal invalid
// subpart as JSON output does. For ids that decode to valid UTF-8 it is
// exactly the bytes llama.cpp produces.
func (t *Tokenizer) Decode(ids []int32) string {
	out, _ := appendValid(nil, t.DecodeBytes(ids), true)
	return string(out)
}

// Detokenize is llama_detokenize(ids, removeSpecial, unparseSpecial): it
// drops the leading space SPM adds (add_space_prefix), optionally strips
// BOS/EOS, renders control tokens only with unparseSpecial, and applies the
// model's clean_up_tokenization_spaces rules (" ." -> "."). Use it for
// text meant to read like the original; Decode is the streaming-consistent
// concatenation.
func (t *Tokenizer) Detokenize(ids []int32, removeSpecial, unparseSpecial bool) string {
	removeSpace := t.addSpacePrefix
	if removeSpecial && t.addBOS && len(ids) > 0 && ids[0] == t.bos {
		removeSpace = false
		ids = ids[1:]
	}
	if removeSpecial && t.addEOS && len(ids) > 0 && ids[len(ids)-1] == t.eos {
		ids = ids[:len(ids)-1]
	}
	var b []byte
	for _, id := range ids {
		if id < 0 || int(id) >= len(t.pieces) {
			continue
		}
		p := t.pieces[id]
		if !unparseSpecial && t.attrs[id]&(attrUnknown|attrControl) != 0 {
			p = ""
		}
		if removeSpace && len(p) > 0 && p[0] == ' ' {
			p = p[1:]
		}
		removeSpace = false
		b = append(b, p...)
	}
	if t.cleanSpaces {
		b = cleanSpaces(b)
	}
	return string(b)
}

// cleanSpaces is the three clean-up passes of llama_vocab::impl::detokenize.
func cleanSpaces(text []byte) []byte {
	// " ?", " !", " .", " ," lose the space.
	out := text[:0:0]
	for i, x := range text {
		if i > 0 && text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			out = out[:len(out)-1]
		}
		out = append(out, x)
	}
	// " ' " becomes "'".
	text, out = out, nil
	for i := 0; i < len(text); i++ {
		x := text[i]
		if i > 0 && x == '\'' && i+1 < len(text) && text[i-1] == ' ' && text[i+1] == ' ' {
			out = out[:len(out)-1]
			out = append(out, x)
			i++
			text[i] = 0 // the following space goes, and no longer counts as a space
			continue
		}
		out = append(out, x)
	}
	// " 's", " 'm", " 're", " 've" lose the space.
	text, out = out, nil
	for i, x := range text {
		if i > 0 && text[i-1] == ' ' && x == '\'' && i+1 < len(text) {
			x1 := text[i+1]
			if x1 == 's' || x1 == 'm' {
				out = out[:len(out)-1]
			} else if i+2 < len(text) {
				x2 := text[i+2]
				if (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e') {
					out = out[:len(out)-1]
				}
			}
		}
		out = append(out, x)
	}
	return out
}

// appendValid appends the valid UTF-8 prefix of b to dst, with each maximal
// invalid subpart replaced by U+FFFD. When final is false, an incomplete
// but so far valid sequence at the end is left over and returned as rest.
func appendValid(dst, b []byte, final bool) (out, rest []byte) {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			dst = append(dst, c)
			i++
			continue
		}
		n, ok := validPrefix(b[i:])
		switch {
		case ok:
			dst = append(dst, b[i:i+n]...)
			i += n
		case i+n == len(b) && !final && n > 0:
			return dst, b[i:] // may still complete
		default:
			dst = append(dst, "\uFFFD"...)
			i += max(n, 1)
		}
	}
	return dst, nil
}

// validPrefix examines the sequence at the start of b: ok with its length
// when it is a complete valid character, otherwise the length of its
// maximal valid prefix (0 for a byte that cannot start a character).
func validPrefix(b []byte) (int, bool) {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 0, false
	}
	for k := 1; k <= need; k++ {
		if k >= len(b) {
			return k, false
		}
		x := b[k]
		if k == 1 {
			if x < lo || x > hi {
				return 1, false
			}
		} else if x < 0x80 || x > 0xBF {
			return k, false
		}
	}
	return need + 1, true
}

// StreamDecoder turns generated ids into text as they arrive. Each Push
// returns only complete, valid UTF-8; a character split over several byte
// tokens comes out whole once its last byte arrives. The concatenation of
// all Push results and Flush equals Decode of all ids.
type StreamDecoder struct {
	t       *Tokenizer
	pending []byte
}

// NewStreamDecoder starts a stream for t.
func NewStreamDecoder(t *Tokenizer) *StreamDecoder { return &StreamDecoder{t: t} }

// Push adds one id and returns the text that is now complete.
func (d *StreamDecoder) Push(id int32) string {
	if id < 0 || int(id) >= len(d.t.pieces) {
		return ""
	}
	d.pending = append(d.pending, d.t.pieces[id]...)
	out, rest := appendValid(nil, d.pending, false)
	d.pending = append(d.pending[:0], rest...)
	return string(out)
}

// Flush ends the stream: an unfinished character becomes U+FFFD.
func (d *StreamDecoder) Flush() string {
	out, _ := appendValid(nil, d.pending, true)
	d.pending = d.pending[:0]
	return string(out)
}
