package tokenizer

import (
	"strings"
	"sync"
)

// fragment is a piece of the input: a token already decided (tok >= 0) or
// text still to tokenize (text[off:off+n]).
type fragment struct {
	tok    int32
	off, n int
}

// cSpaceByte is C's isspace in the "C" locale, used for LSTRIP/RSTRIP.
func cSpaceByte(b byte) bool { return b == ' ' || (b >= '\t' && b <= '\r') }

// partition splits text around special tokens as llama.cpp's
// tokenizer_st_partition: every special token in turn (longest text first)
// is cut out of every remaining text fragment. Control and unknown tokens
// are matched only when parseSpecial; user-defined tokens always are.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	frags := []fragment{{tok: null, off: 0, n: len(text)}}
	var next []fragment
	for _, id := range t.specials {
		a := t.attrs[id]
		if !parseSpecial && a&(attrControl|attrUnknown) != 0 {
			continue
		}
		st := t.tokens[id]
		if !strings.Contains(text, st) {
			continue // cheap test first: most specials never occur
		}
		next = next[:0]
		for _, fr := range frags {
			if fr.tok != null {
				next = append(next, fr)
				continue
			}
			off, n := fr.off, fr.n
			for {
				k := strings.Index(text[off:off+n], st)
				if k < 0 {
					next = append(next, fragment{tok: null, off: off, n: n})
					break
				}
				m := off + k
				if m > off {
					ln := m - off
					if a&attrLStrip != 0 {
						for ln > 0 && cSpaceByte(text[off+ln-1]) {
							ln--
						}
					}
					if ln > 0 {
						next = append(next, fragment{tok: null, off: off, n: ln})
					}
				}
				next = append(next, fragment{tok: id})
				if m+len(st) >= off+n {
					break
				}
				ro := m + len(st)
				rn := n - (k + len(st))
				if a&attrRStrip != 0 {
					for rn > 0 && cSpaceByte(text[ro]) {
						ro++
						rn--
					}
				}
				if rn == 0 {
					break
				}
				off, n = ro, rn
			}
		}
		frags, next = next, frags
	}
	return frags
}

// Encode tokenizes text as llama_tokenize(text, addSpecial, parseSpecial):
// with addSpecial, BOS/EOS are added as the model's add_bos_token /
// add_eos_token say (WordPiece adds [CLS] ... [SEP]); with parseSpecial,
// control-token text such as "<s>" becomes that token.
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) []int32 {
	var out []int32
	var frags []fragment
	if text != "" {
		frags = t.partition(text, parseSpecial)
	}
	switch t.kind {
	case kindSPM:
		if addSpecial && t.addBOS && t.bos != null {
			out = append(out, t.bos)
		}
		prevSpecial := true // the first text gets the space prefix
		var sb strings.Builder
		for _, fr := range frags {
			if fr.tok != null {
				out = append(out, fr.tok)
				prevSpecial = true
				continue
			}
			sb.Reset()
			if t.addSpacePrefix && prevSpecial {
				sb.WriteString("\u2581")
			}
			for _, c := range []byte(text[fr.off : fr.off+fr.n]) {
				if c == ' ' {
					sb.WriteString("\u2581")
				} else {
					sb.WriteByte(c)
				}
			}
			out = t.spm(sb.String(), out)
			prevSpecial = false
		}
		if addSpecial && t.addEOS && t.eos != null {
			out = append(out, t.eos)
		}
	case kindBPE:
		if addSpecial && t.addBOS && t.bos != null {
			out = append(out, t.bos)
		}
		for _, fr := range frags {
			if fr.tok != null {
				out = append(out, fr.tok)
				continue
			}
			out = t.bpe(text[fr.off:fr.off+fr.n], out)
		}
		if addSpecial && t.addEOS && t.eos != null {
			out = append(out, t.eos)
		}
	case kindWPM:
		if addSpecial && t.bos != null {
			out = append(out, t.bos)
		}
		for _, fr := range frags {
			if fr.tok != null {
				out = append(out, fr.tok)
				continue
			}
			out = t.wpm(text[fr.off:fr.off+fr.n], out)
		}
		if addSpecial && t.sep != null {
			out = append(out, t.sep)
		}
	}
	return out
}

// symbol is a span of the word being merged, linked to its neighbours.
type symbol struct {
	prev, next int32
	off, n     int32
}

// bigram is a candidate merge of two adjacent symbols.
type bigram struct {
	left, right int32
	score       float32 // SPM: token score (higher first)
	rank        int32   // BPE: merge rank (lower first)
	size        int32
}

// bigramHeap is a binary heap; the bigram to merge next is on top. SPM
// orders by higher score, BPE by lower rank; ties go to the leftmost pair
// (llm_bigram_spm / llm_bigram_bpe comparators).
type bigramHeap struct {
	items []bigram
	bpe   bool
}

func (h *bigramHeap) less(a, b *bigram) bool {
	if h.bpe {
		if a.rank != b.rank {
			return a.rank < b.rank
		}
	} else if a.score != b.score {
		return a.score > b.score
	}
	return a.left < b.left
}

func (h *bigramHeap) push(b bigram) {
	h.items = append(h.items, b)
	i := len(h.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(&h.items[i], &h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *bigramHeap) pop() bigram {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && h.less(&h.items[l], &h.items[m]) {
			m = l
		}
		if r < last && h.less(&h.items[r], &h.items[m]) {
			m = r
		}
		if m == i {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return top
}

// session holds reusable buffers for one Encode call.
type session struct {
	syms  []symbol
	heap  bigramHeap
	split splitState
	cpts  []rune
	ends  [2][]int
	word  []byte
	key   []byte
}

var sessions = sync.Pool{New: func() any { return new(session) }}

// splitChars makes one symbol per UTF-8 sequence (by lead byte, as
// unicode_len_utf8; a truncated sequence at the end is cut short).
func (s *session) splitChars(text string) {
	s.syms = s.syms[:0]
	for off := 0; off < len(text); {
		n := min(utf8Len(text[off]), len(text)-off)
		i := int32(len(s.syms))
		next := i + 1
		if off+n == len(text) {
			next = -1
		}
		s.syms = append(s.syms, symbol{prev: i - 1, next: next, off: int32(off), n: int32(n)})
		off += n
	}
}

// spm is llm_tokenizer_spm_session::tokenize over already escaped text.
// llama.cpp merges the whole text as one sequence. When no token has a "▁"
// after another character (t.spaceCuts), no merge can cross the start of
// a "▁" that follows another character, so the pieces between such points
// merge independently and the result is the same; cutting there keeps the
// queue small.
func (t *Tokenizer) spm(text string, out []int32) []int32 {
	s := sessions.Get().(*session)
	defer sessions.Put(s)
	if !t.spaceCuts {
		return t.spmPiece(s, text, out)
	}
	start := 0
	for off := 0; off < len(text); {
		if off > start && strings.HasPrefix(text[off:], "\u2581") && !strings.HasSuffix(text[:off], "\u2581") {
			out = t.spmPiece(s, text[start:off], out)
			start = off
		}
		off += min(utf8Len(text[off]), len(text)-off)
	}
	return t.spmPiece(s, text[start:], out)
}

func (t *Tokenizer) spmPiece(s *session, text string, out []int32) []int32 {
	s.splitChars(text)
	s.heap.items = s.heap.items[:0]
	s.heap.bpe = false
	tryAdd := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		a, b := &s.syms[l], &s.syms[r]
		id, ok := t.ids[text[a.off:a.off+a.n+b.n]]
		if !ok {
			return
		}
		s.heap.push(bigram{left: l, right: r, score: t.scores[id], size: a.n + b.n})
	}
	for i := 1; i < len(s.syms); i++ {
		tryAdd(int32(i-1), int32(i))
	}
	for len(s.heap.items) > 0 {
		bg := s.heap.pop()
		l, r := &s.syms[bg.left], &s.syms[bg.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != bg.size {
			continue // stale: one side was merged since
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			s.syms[r.next].prev = bg.left
		}
		tryAdd(l.prev, bg.left)
		tryAdd(bg.left, l.next)
	}
	// Resegment: a symbol is a token, or (never merged, so a single
	// character) falls back to its bytes. llama.cpp's rev_merge lookup can
	// only find texts that are tokens, so it never applies here.
	for i := int32(0); i != -1 && len(s.syms) > 0; i = s.syms[i].next {
		sym := s.syms[i]
		w := text[sym.off : sym.off+sym.n]
		if id, ok := t.ids[w]; ok {
			out = append(out, id)
			continue
		}
		for k := 0; k < len(w); k++ {
			id := t.byteTokens[w[k]]
			if id == null {
				id = t.unk // llama.cpp throws here; a vocab without byte tokens is broken
			}
			if id != null {
				out = append(out, id)
			}
		}
	}
	return out
}

// bpe is llm_tokenizer_bpe_session::tokenize: pre-tokenize, byte-encode
// each word, merge by rank, map symbols to ids.
func (t *Tokenizer) bpe(text string, out []int32) []int32 {
	s := sessions.Get().(*session)
	defer sessions.Put(s)
	s.cpts = decodeCpts(text, s.cpts)
	s.split.reset(s.cpts)
	ends := splitWords(&s.split, t.chain, s.ends[0], s.ends[1])
	s.ends[0] = ends
	lo := 0
	for _, end := range ends {
		s.word = s.word[:0]
		for _, c := range s.cpts[lo:end] {
			var tmp [4]byte
			for _, b := range appendCpt(tmp[:0], c) {
				s.word = append(s.word, t.byteEncodedString[b]...)
			}
		}
		lo = end
		out = t.bpeWord(s, string(s.word), out)
	}
	return out
}

func (t *Tokenizer) bpeWord(s *session, word string, out []int32) []int32 {
	if t.ignoreMerges {
		if id, ok := t.ids[word]; ok {
			return append(out, id)
		}
	}
	s.splitChars(word)
	s.heap.items = s.heap.items[:0]
	s.heap.bpe = true
	tryAdd := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		a, b := &s.syms[l], &s.syms[r]
		s.key = append(s.key[:0], word[a.off:a.off+a.n]...)
		s.key = append(s.key, 0)
		s.key = append(s.key, word[b.off:b.off+b.n]...)
		rank, ok := t.merges[string(s.key)]
		if !ok {
			return
		}
		s.heap.push(bigram{left: l, right: r, rank: rank, size: a.n + b.n})
	}
	for i := 1; i < len(s.syms); i++ {
		tryAdd(int32(i-1), int32(i))
	}
	for len(s.heap.items) > 0 {
		bg := s.heap.pop()
		l, r := &s.syms[bg.left], &s.syms[bg.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != bg.size {
			continue
		}
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			s.syms[r.next].prev = bg.left
		}
		tryAdd(l.prev, bg.left)
		tryAdd(bg.left, l.next)
	}
	for i := int32(0); i != -1 && len(s.syms) > 0; i = s.syms[i].next {
		sym := s.syms[i]
		w := word[sym.off : sym.off+sym.n]
		if id, ok := t.ids[w]; ok {
			out = append(out, id)
			continue
		}
		// llama.cpp looks each byte up as a one-byte token and drops misses.
		for k := 0; k < len(w); k++ {
			if id := t.bpeByteTokens[w[k]]; id != null {
				out = append(out, id)
			}
		}
	}
	return out
}

// wpm is llm_tokenizer_wpm_session::tokenize: normalize, split into words,
// then greedy longest-match with a "▁" word prefix; a word that cannot be
// covered becomes the unknown token.
func (t *Tokenizer) wpm(text string, out []int32) []int32 {
	for _, w := range t.wpmWords(text) {
		w1 := "\u2581" + w
		start := len(out)
		for i := 0; i < len(w1); i++ {
			matched := false
			for j := min(len(w1), i+t.maxTokenLen+1); j > i; j-- {
				if id, ok := t.ids[w1[i:j]]; ok {
					out = append(out, id)
					matched = true
					i = j - 1
					break
				}
			}
			if !matched {
				out = out[:start]
				break
			}
		}
		if len(out) == start && t.unk != null {
			out = append(out, t.unk)
		}
	}
	return out
}

// wpmWords is llm_tokenizer_wpm_session::preprocess.
func (t *Tokenizer) wpmWords(text string) []string {
	cpts := decodeCpts(text, nil)
	if t.stripAccents {
		for i, c := range cpts {
			cpts[i] = nfdFirst(c)
		}
	}
	var words []string
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	for _, c := range cpts {
		f := cptFlags(c)
		if f&flagSpace != 0 {
			flush()
			continue
		}
		if c == 0 || c == 0xFFFD || f&flagCategory == flagControl {
			continue
		}
		if t.stripAccents && f&flagCategory == flagMark {
			continue
		}
		lc := c
		if t.lowercase {
			lc = toLower(c)
		}
		if f&flagCategory == flagPunct || (c < 0x7F && f&flagCategory == flagSymbol) || isChineseChar(c) {
			flush()
			words = append(words, string(appendCpt(nil, lc)))
			continue
		}
		cur = appendCpt(cur, lc)
	}
	flush()
	return words
}

func isChineseChar(c rune) bool {
	return (c >= 0x4E00 && c <= 0x9FFF) ||
		(c >= 0x3400 && c <= 0x4DBF) ||
		(c >= 0x20000 && c <= 0x2A6DF) ||
		(c >= 0x2A700 && c <= 0x2B73F) ||
		(c >= 0x2B740 && c <= 0x2B81F) ||
		(c >= 0x2B920 && c <= 0x2CEAF) || // 0x2B920, not 0x2B820, as in HF's Rust code and llama.cpp
		(c >= 0xF900 && c <= 0xFAFF) ||
		(c >= 0x2F800 && c <= 0x2FA1F)
}
